/**
 * The demo's classification of the CRM, as an Open Data Contract Standard v3 document (what
 * `waybill catalog scan demo-crm --propose` proposes, reviewed: retention and regulations added).
 */
export const DEMO_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: waybill-demo-crm
name: demo-crm
version: 1.0.0
status: active
description:
  purpose: The synthetic no-code CRM of the Waybill demo, classified field by field.
customProperties:
  - property: waybillConnection
    value: demo-crm
schema:
  - name: customers
    physicalType: table
    logicalType: object
    properties:
      - name: id
        classification: internal
      - name: name
        classification: confidential
        tags: [pii:name, gdpr, ccpa]
        customProperties:
          - { property: waybillPiiKind, value: name }
          - { property: waybillRetention, value: P5Y }
          - { property: waybillRegulations, value: [gdpr, ccpa] }
      - name: email
        classification: confidential
        tags: [pii:email, gdpr, ccpa]
        customProperties:
          - { property: waybillPiiKind, value: email }
          - { property: waybillRetention, value: P5Y }
          - { property: waybillRegulations, value: [gdpr, ccpa] }
      - name: phone
        classification: confidential
        tags: [pii:phone, gdpr, ccpa]
        customProperties:
          - { property: waybillPiiKind, value: phone }
          - { property: waybillRetention, value: P5Y }
          - { property: waybillRegulations, value: [gdpr, ccpa] }
      - name: ssn
        classification: restricted
        tags: [pii:national_id, ccpa]
        customProperties:
          - { property: waybillPiiKind, value: national_id }
          - { property: waybillRetention, value: P7Y }
          - { property: waybillRegulations, value: [ccpa] }
          - { property: waybillPurposes, value: [tax-reporting] }
      - name: birth_date
        classification: confidential
        tags: [pii:birth_date, gdpr]
        customProperties:
          - { property: waybillPiiKind, value: birth_date }
          - { property: waybillRetention, value: P5Y }
          - { property: waybillRegulations, value: [gdpr] }
      - name: country
        classification: public
      - name: lifetime_value
        classification: internal
      - name: notes
        classification: confidential
        description: Free text typed by support agents; holds emails and phone numbers.
        tags: [pii:free_text, gdpr]
        customProperties:
          - { property: waybillPiiKind, value: free_text }
          - { property: waybillRetention, value: P1Y }
          - { property: waybillRegulations, value: [gdpr] }
      - name: updated_at
        classification: internal
  - name: orders
    physicalType: table
    logicalType: object
    properties:
      - name: id
        classification: internal
      - name: customer_id
        classification: internal
      - name: ordered_at
        classification: internal
      - name: amount
        classification: internal
      - name: status
        classification: internal
      - name: notes
        classification: internal
`;
