/** The demo's export definition: every transform kind of the core issue, a computed band and a filter. */
export const DEMO_DEFINITION = `apiVersion: waybill/v1
kind: ExportDefinition
name: customers-marketing
owner: team:growth
description: >-
  North American customers for the marketing analytics team: pseudonymous, no SSNs,
  phones reduced to their last four digits, birth dates to the year.
purposes: [marketing-analytics]
source:
  connection: demo-crm
  table: customers
  recordId: id
  updatedAt: updated_at
filter: 'country in ["US", "CA"]'
fields:
  - name: customer_id
    from: id
    type: integer
    classification: internal
  - name: email_pseudonym
    from: email
    classification: confidential
    transform: { type: hash_keyed, key: demo-pseudonyms }
  - name: phone_last4
    from: phone
    classification: confidential
    transform: { type: mask_partial, keep: last, n: 4 }
  - name: ssn
    from: ssn
    classification: restricted
    transform: drop
  - name: birth_date
    from: birth_date
    classification: confidential
    transform: { type: date_truncate, unit: year }
  - name: country
    from: country
    classification: public
  - name: value_band
    compute: 'lifetime_value >= 10000.0 ? "gold" : (lifetime_value >= 1000.0 ? "silver" : "bronze")'
    classification: internal
destination:
  connection: demo-exports
  path: '{name}/{date}/{runId}'
format: csv
retention: P90D
`;
