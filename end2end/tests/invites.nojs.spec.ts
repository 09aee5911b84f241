import { test } from '@playwright/test';
import { inviteJourneys } from './invites.journeys';

test.describe('invitations, JavaScript off', () => inviteJourneys(false));
