import { createConnectionOpener } from '@waybill/connectors';

/** The one place stored connections become live adapters. */
export const connectionOpener = createConnectionOpener();
