import { test } from '@playwright/test';
import { selfServiceJourneys } from './self_service.journeys';

test.describe('account self-service, JavaScript on', () => selfServiceJourneys(true));
