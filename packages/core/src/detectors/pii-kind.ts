/** The kinds of personal data Waybill knows (issue "know the data"). */
export const PII_KINDS = [
  'email',
  'phone',
  'national_id',
  'name',
  'address',
  'birth_date',
  'financial_account',
  'card_number',
  'iban',
  'ip_address',
  'health',
  'free_text',
] as const;

export type PiiKind = (typeof PII_KINDS)[number];

/** The classification a field holding this kind of data is proposed by default. */
export const DEFAULT_SENSITIVITY: Readonly<Record<PiiKind, 'confidential' | 'restricted'>> = {
  email: 'confidential',
  phone: 'confidential',
  national_id: 'restricted',
  name: 'confidential',
  address: 'confidential',
  birth_date: 'confidential',
  financial_account: 'restricted',
  card_number: 'restricted',
  iban: 'restricted',
  ip_address: 'confidential',
  health: 'restricted',
  free_text: 'confidential',
};
