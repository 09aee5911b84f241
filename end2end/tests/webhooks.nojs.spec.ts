import { test } from '@playwright/test';
import { webhookJourneys } from './webhooks.journeys';

test.describe('webhooks, JavaScript off', () => webhookJourneys(false));
