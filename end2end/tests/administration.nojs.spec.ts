import { test } from '@playwright/test';
import { administrationJourneys } from './administration.journeys';

test.describe('administering members, JavaScript off', () => administrationJourneys(false));
