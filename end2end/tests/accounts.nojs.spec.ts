import { test } from '@playwright/test';
import { accountJourneys } from './accounts.journeys';

test.describe('accounts, JavaScript off', () => accountJourneys(false));
