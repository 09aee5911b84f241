import { test } from '@playwright/test';
import { ssoJourneys } from './sso.journeys';

test.describe('single sign-on, JavaScript on', () => ssoJourneys(true));
