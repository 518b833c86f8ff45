import type { ExportDefinition } from '../definitions/export-definition-schema.js';
import { sensitivities } from '../definitions/export-definition-schema.js';
import type { FieldClassification } from '../ports/store.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { principalUid } from '../policy/policy-entities.js';

/** How far a destination is trusted: inside the organization, a partner under contract, anyone. */
export const TRUST_TIERS = ['internal', 'partner', 'public'] as const;
export type TrustTier = (typeof TRUST_TIERS)[number];

/** How strongly a transform protects a value, weakest first. */
export const PROTECTION_LEVELS = ['any', 'masked', 'pseudonymized', 'dropped'] as const;
export type ProtectionLevel = (typeof PROTECTION_LEVELS)[number];

/** What each transform achieves. `keep` (or none) protects nothing. */
export const TRANSFORM_PROTECTION: Readonly<Record<string, ProtectionLevel>> = {
  keep: 'any',
  mask_partial: 'masked',
  mask_email: 'masked',
  mask_charclass: 'masked',
  date_truncate: 'masked',
  bucket: 'masked',
  round: 'masked',
  date_shift: 'masked',
  scan_and_apply: 'masked',
  hash_keyed: 'pseudonymized',
  pseudonym_fake: 'pseudonymized',
  encrypt: 'pseudonymized',
  encrypt_deterministic: 'pseudonymized',
  tokenize: 'pseudonymized',
  drop: 'dropped',
  nullify: 'dropped',
  redact: 'dropped',
  replace: 'dropped',
};

/** Kinds of personal data whose leak does the most harm: treated as restricted whatever the label. */
const HIGH_RISK_KINDS = new Set(['national_id', 'card_number', 'iban', 'financial_account', 'health']);

type Sensitivity = (typeof sensitivities)[number];

/**
 * The default protection rules: the weakest protection a field of this sensitivity may leave with, per
 * destination tier. Public data goes anywhere as it is; restricted data never reaches the public, and
 * reaches a partner only pseudonymized.
 */
export const DEFAULT_PROTECTION_RULES: Readonly<
  Record<Sensitivity, Readonly<Record<TrustTier, ProtectionLevel>>>
> = {
  public: { internal: 'any', partner: 'any', public: 'any' },
  internal: { internal: 'any', partner: 'any', public: 'masked' },
  confidential: { internal: 'any', partner: 'masked', public: 'pseudonymized' },
  restricted: { internal: 'masked', partner: 'pseudonymized', public: 'dropped' },
};

/** The field a rule is asked about: its effective sensitivity and PII kind. */
export interface ReleasedField {
  readonly name: string;
  readonly sensitivity: Sensitivity;
  readonly piiKind: string | null;
}

/** A set of protection rules: which rule a field breaks when it leaves for `tier` protected by `has`. */
export interface ProtectionRules {
  /** Null when the field may leave so; otherwise the protection it needs and the rule in words. */
  check(
    field: ReleasedField,
    tier: TrustTier,
    transform: string,
  ): { needs: ProtectionLevel; rule: string } | null;
}

/** The built-in table ({@link DEFAULT_PROTECTION_RULES}): for policy sets that say nothing of `field.release`. */
export const TABLE_PROTECTION_RULES: ProtectionRules = {
  check(f, tier, transform) {
    const has = TRANSFORM_PROTECTION[transform] ?? 'any';
    const needs = DEFAULT_PROTECTION_RULES[f.sensitivity][tier];
    return PROTECTION_LEVELS.indexOf(has) < PROTECTION_LEVELS.indexOf(needs)
      ? { needs, rule: `${f.sensitivity} → ${tier} needs ${needs}` }
      : null;
  },
};

/**
 * The protection rules of a Cedar policy set: each field is asked about as `field.release` (resource a
 * `Waybill::Field` with its sensitivity and PII kind; context the destination's tier, the protection
 * its transform achieves as 0–3, and the transform's name). A denial names the deciding policies, and
 * their `@protection` says what would satisfy them. The rules are thus versioned, audited and approved
 * with the policy set. A set with no `field.release` policy at all (written before the rules moved into
 * the policy) gets the built-in table.
 */
export function policyProtectionRules(engine: PolicyEngine, workspace: string): ProtectionRules {
  const speaks = [...engine.policySet.policies.values()].some((p) => p.text.includes('"field.release"'));
  if (!speaks) return TABLE_PROTECTION_RULES;
  const principal = principalUid('waybill:protection-rules');
  const principalEntity = {
    uid: principal,
    attrs: { workspace, kind: 'system', name: 'protection-rules' },
    parents: [],
  };
  return {
    check(f, tier, transform) {
      const has = TRANSFORM_PROTECTION[transform] ?? 'any';
      const resource = { type: 'Waybill::Field', id: f.name };
      const d = engine.decide({
        principal,
        action: 'field.release',
        resource,
        context: { tier, protection: PROTECTION_LEVELS.indexOf(has), transform },
        entities: [
          principalEntity,
          {
            uid: resource,
            attrs: { workspace, name: f.name, sensitivity: f.sensitivity, piiKind: f.piiKind ?? '' },
            parents: [],
          },
        ],
      });
      if (d.decision === 'allow') return null;
      let needs: ProtectionLevel = 'any';
      for (const id of d.policyIds) {
        const p = engine.policy(id)?.protection ?? 'dropped';
        if (PROTECTION_LEVELS.indexOf(p) > PROTECTION_LEVELS.indexOf(needs)) needs = p;
      }
      if (d.policyIds.length === 0) needs = 'dropped';
      const rule = `${f.sensitivity} → ${tier} needs ${needs} (${
        d.policyIds.length > 0
          ? `policy ${d.policyIds.map((id) => `"${id}"`).join(', ')}`
          : 'no policy permits field.release'
      })`;
      return { needs, rule };
    },
  };
}

/** One field that would leave less protected than the rules want. */
export interface ProtectionViolation {
  readonly field: string;
  readonly sensitivity: Sensitivity;
  readonly piiKind: string | null;
  readonly transform: string;
  readonly has: ProtectionLevel;
  readonly needs: ProtectionLevel;
  /** The rule in words: `restricted → public needs dropped`. */
  readonly rule: string;
}

const rank = (s: Sensitivity) => sensitivities.indexOf(s);

/**
 * Checks every output field of a definition against the protection rules for a destination's tier. A
 * field's sensitivity is the highest of what the definition declares and what the catalog says of the
 * columns it reads (a computed field reads several); a high-risk PII kind counts as restricted.
 */
export function checkProtection(
  definition: ExportDefinition,
  catalog: Readonly<Record<string, FieldClassification>>,
  tier: TrustTier,
  references: (field: ExportDefinition['fields'][number]) => readonly string[],
  rules: ProtectionRules = TABLE_PROTECTION_RULES,
): ProtectionViolation[] {
  const out: ProtectionViolation[] = [];
  for (const f of definition.fields) {
    let sensitivity: Sensitivity = f.classification ?? 'public';
    let piiKind: string | null = null;
    for (const column of references(f)) {
      const c = catalog[column];
      if (!c) continue;
      if (rank(c.sensitivity) > rank(sensitivity)) sensitivity = c.sensitivity;
      if (c.piiKind !== undefined) piiKind = c.piiKind;
    }
    if (piiKind !== null && HIGH_RISK_KINDS.has(piiKind)) sensitivity = 'restricted';
    const type = typeof f.transform === 'string' ? f.transform : (f.transform?.type ?? 'keep');
    const has = TRANSFORM_PROTECTION[type] ?? 'any';
    const broken = rules.check({ name: f.name, sensitivity, piiKind }, tier, type);
    if (broken) {
      out.push({
        field: f.name,
        sensitivity,
        piiKind,
        transform: type,
        has,
        needs: broken.needs,
        rule: broken.rule,
      });
    }
  }
  return out;
}

/** A destination connection's trust tier (`trust` in its settings; `internal` when not set). */
export function destinationTrust(config: Readonly<Record<string, unknown>>): TrustTier {
  const t = config['trust'];
  return typeof t === 'string' && (TRUST_TIERS as readonly string[]).includes(t)
    ? (t as TrustTier)
    : 'internal';
}
