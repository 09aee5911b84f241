import { test } from '@playwright/test';
import { policyJourneys } from './policies.journeys';

test.describe('policies, JavaScript off', () => policyJourneys(false));
