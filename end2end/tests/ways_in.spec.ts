import { test } from '@playwright/test';
import { waysInJourneys } from './ways_in.journeys';

test.describe('more ways in, JavaScript on', () => waysInJourneys(true));
