/**
 * The policy set a new home starts with (docs/policy.md explains each policy). Deny by default: nothing
 * is allowed unless a `permit` matches, and a matching `forbid` wins over any `permit`.
 *
 * Two annotations carry Waybill's own meaning:
 * - `@approvals("role:n,…")` on a `forbid` of `export.run`: the forbid is lifted by approvals, and this
 *   is what a request is told it needs (`approver`, `security`, `admin`, or `any` approving person).
 * - `@exceptions("never")` on a `forbid` of `export.request`: a denial by this policy cannot be turned
 *   into an exception request.
 */
export const DEFAULT_POLICY_SET = `// Waybill default policy set, version 1.

// --- administration -------------------------------------------------------------------------

@id("admins-administer")
permit (
  principal in Waybill::Role::"admin",
  action in [
    Waybill::Action::"definition.apply",
    Waybill::Action::"connection.manage",
    Waybill::Action::"catalog.manage",
    Waybill::Action::"policy.manage",
    Waybill::Action::"keys.rotate",
    Waybill::Action::"principal.manage",
    Waybill::Action::"grant.manage",
    Waybill::Action::"audit.read",
    Waybill::Action::"audit.redact",
    Waybill::Action::"investigation.list"
  ],
  resource
);

@id("security-reads-the-audit-log")
permit (
  principal in Waybill::Role::"security",
  action in [Waybill::Action::"audit.read", Waybill::Action::"investigation.list"],
  resource
);

@id("admins-apply-policies")
permit (principal in Waybill::Role::"admin", action == Waybill::Action::"policy.apply", resource);

@id("admins-and-security-approve-policy-changes")
permit (principal, action == Waybill::Action::"policy.approve", resource)
when { principal in Waybill::Role::"admin" || principal in Waybill::Role::"security" };

// A policy change takes effect at once. For four eyes on every policy change, add:
//
//   @id("policy-changes-need-a-second-admin")
//   @approvals("admin:1")
//   forbid (principal, action == Waybill::Action::"policy.apply", resource)
//   unless { context.approvals.admin >= 1 };

// --- requesting -------------------------------------------------------------------------------

@id("requesters-request-exports")
permit (principal, action == Waybill::Action::"export.request", resource)
when { principal in Waybill::Role::"requester" || principal in Waybill::Role::"admin" };

@id("grant-holders-request-exports")
permit (principal, action == Waybill::Action::"export.request", resource)
when { context.grant };

@id("purpose-limitation")
@exceptions("never")
forbid (principal, action == Waybill::Action::"export.request", resource)
unless { resource.purposes.contains(context.purpose) };

@id("requesters-ask-for-exceptions")
permit (principal, action == Waybill::Action::"exception.request", resource)
when { principal in Waybill::Role::"requester" || principal in Waybill::Role::"admin" };

@id("security-investigates")
permit (
  principal in Waybill::Role::"security",
  action == Waybill::Action::"investigation.request",
  resource
);

// --- running ----------------------------------------------------------------------------------

@id("requesters-run-their-exports")
permit (principal, action == Waybill::Action::"export.run", resource)
when {
  resource.requester == principal &&
  (principal in Waybill::Role::"requester" || principal in Waybill::Role::"admin")
};

@id("grant-holders-run-their-exports")
permit (principal, action == Waybill::Action::"export.run", resource)
when { resource.requester == principal && context.grant };

@id("approved-exceptions-run")
permit (principal, action == Waybill::Action::"export.run", resource)
when { resource.requester == principal && resource.kind == "exception" };

@id("security-runs-its-investigations")
permit (principal in Waybill::Role::"security", action == Waybill::Action::"export.run", resource)
when { resource.requester == principal && resource.kind == "investigation" };

@id("confidential-data-needs-an-approver")
@approvals("approver:1")
forbid (principal, action == Waybill::Action::"export.run", resource)
when {
  resource.kind == "business" &&
  (resource.definition.sensitivity == "confidential" ||
   resource.definition.sensitivity == "restricted")
}
unless { context.approvals.approver >= 1 };

@id("exceptions-need-security-and-one-more")
@approvals("security:1,any:2")
forbid (principal, action == Waybill::Action::"export.run", resource)
when { resource.kind == "exception" }
unless { context.approvals.security >= 1 && context.approvals.total >= 2 };

@id("investigations-need-a-second-security")
@approvals("security:1")
forbid (principal, action == Waybill::Action::"export.run", resource)
when { resource.kind == "investigation" }
unless { context.approvals.security >= 1 };

// --- approving --------------------------------------------------------------------------------

@id("approvers-approve")
permit (principal, action == Waybill::Action::"export.approve", resource)
when { principal in Waybill::Role::"approver" || principal in Waybill::Role::"security" };

@id("no-self-approval")
forbid (principal, action == Waybill::Action::"export.approve", resource)
when { resource.requester == principal };

@id("only-security-approves-investigations")
forbid (principal, action == Waybill::Action::"export.approve", resource)
when { resource.kind == "investigation" }
unless { principal in Waybill::Role::"security" };

// --- reading and cancelling -------------------------------------------------------------------

@id("members-read-business-exports")
permit (principal, action == Waybill::Action::"export.read", resource)
when {
  resource.kind != "investigation" &&
  (principal in Waybill::Role::"viewer" ||
   principal in Waybill::Role::"requester" ||
   principal in Waybill::Role::"approver" ||
   principal in Waybill::Role::"security" ||
   principal in Waybill::Role::"admin")
};

@id("investigations-are-visible-to-security-and-admins")
permit (principal, action == Waybill::Action::"export.read", resource)
when {
  resource.requester == principal ||
  principal in Waybill::Role::"security" ||
  principal in Waybill::Role::"admin"
};

@id("requesters-and-admins-cancel")
permit (principal, action == Waybill::Action::"export.cancel", resource)
when { resource.requester == principal || principal in Waybill::Role::"admin" };

// --- reversal: giving back the values behind tokens and encryption -----------------------------

@id("members-request-reversals")
permit (principal, action == Waybill::Action::"reversal.request", resource)
when {
  principal in Waybill::Role::"requester" ||
  principal in Waybill::Role::"approver" ||
  principal in Waybill::Role::"security" ||
  principal in Waybill::Role::"admin"
};

@id("approved-reversals-run")
permit (principal, action == Waybill::Action::"reversal.run", resource);

@id("reversals-need-security")
@approvals("security:1")
forbid (principal, action == Waybill::Action::"reversal.run", resource)
unless { context.approvals.security >= 1 };

@id("security-approves-reversals")
permit (principal in Waybill::Role::"security", action == Waybill::Action::"reversal.approve", resource);

// --- protection rules: how protected each field must be to leave for a destination --------------
//
// Asked once per output field (resource: the field; context.tier: the destination's trust, internal,
// partner or public; context.protection: what the field's transform achieves, 0 none, 1 masked,
// 2 pseudonymized, 3 dropped). A field's sensitivity is the highest of the definition's and the
// catalog's; a high-risk PII kind (national id, card number, IBAN, financial account, health) counts
// as restricted. @protection names the weakest protection that satisfies the rule.

@id("fields-may-leave")
permit (principal, action == Waybill::Action::"field.release", resource);

@id("internal-data-is-masked-for-the-public")
@protection("masked")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "internal" && context.tier == "public" && context.protection < 1 };

@id("confidential-data-is-masked-for-partners")
@protection("masked")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "confidential" && context.tier == "partner" && context.protection < 1 };

@id("confidential-data-is-pseudonymized-for-the-public")
@protection("pseudonymized")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "confidential" && context.tier == "public" && context.protection < 2 };

@id("restricted-data-is-masked-internally")
@protection("masked")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "restricted" && context.tier == "internal" && context.protection < 1 };

@id("restricted-data-is-pseudonymized-for-partners")
@protection("pseudonymized")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "restricted" && context.tier == "partner" && context.protection < 2 };

@id("restricted-data-never-reaches-the-public")
@protection("dropped")
forbid (principal, action == Waybill::Action::"field.release", resource)
when { resource.sensitivity == "restricted" && context.tier == "public" && context.protection < 3 };
`;
