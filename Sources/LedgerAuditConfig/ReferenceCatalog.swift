/// The reference catalog, built in: byte for byte `samples/auction/ledger-audit.yml`
/// (a test keeps them equal; edit the sample, then run `scripts/embed-resources`).
public enum ReferenceCatalog {
    public static let yaml = #"""
# ledger-audit catalog for the reference auction ledger (shared/spec/auction-ledger.md).
# This file is also built into the tool as the default when no --config is given.
name: auction-ledger
default_currency: USD

# Where the events live. Names are quoted as identifiers, never spliced as text.
store:
  schema: public
  table: event_store

# Money left in a transit account longer than this is in limbo (hours).
limbo_after_hours: 72
# Bound between hlc_physical and recorded_at (milliseconds).
clock_skew_max_ms: 300000

causation:
  # A causation_id naming no event: "command" (a command id; reported only against a registry)
  # or "defect" (always ORPHAN_CAUSATION).
  dangling: command

# Optional: currencies outside ISO 4217, with their minor-unit exponent.
# currencies:
#   XTS: 2

# Accounts, first matching pattern wins. `kind` groups the trial balance.
accounts:
  - pattern: "user:*:available"
    kind: user available
  - pattern: "user:*:reserved"
    kind: user reserved
    transit: true
    hold_key: reservation_id
  - pattern: "user:*:pending"
    kind: user pending
    transit: true
    hold_key_from_arrival: escrow_id
  - pattern: "escrow:*"
    kind: escrow
    transit: true
    hold_key: escrow_id
  - pattern: "external:*"
    kind: external
    may_go_negative: true
  - pattern: "platform:fees"
    kind: platform

# Event types. A money event moves payload `amount` of payload `currency` (default above)
# from one account to another. Placeholders: {aggregate_id}, {user_id}, {event_id},
# {correlation_id}, {causation_id}, {payload.FIELD}, {metadata.FIELD}.
events:
  FUNDS_DEPOSITED:
    from: "external:deposits"
    to: "user:{aggregate_id}:available"
    requires_actor: true
  FUNDS_WITHDRAWN:
    from: "user:{aggregate_id}:available"
    to: "external:withdrawals"
    requires_actor: true
  FUNDS_RESERVED:
    from: "user:{aggregate_id}:available"
    to: "user:{aggregate_id}:reserved"
    requires_actor: true
  RESERVATION_RELEASED:
    from: "user:{aggregate_id}:reserved"
    to: "user:{aggregate_id}:available"
    requires_actor: true
    compensates: FUNDS_RESERVED
  ESCROW_FUNDED:
    from: "user:{aggregate_id}:reserved"
    to: "escrow:{payload.escrow_id}"
    requires_actor: true
  ESCROW_REFUNDED:
    from: "escrow:{payload.escrow_id}"
    to: "user:{aggregate_id}:reserved"
    requires_actor: true
    compensates: ESCROW_FUNDED
  SELLER_CREDITED_PENDING:
    from: "escrow:{payload.escrow_id}"
    to: "user:{aggregate_id}:pending"
    requires_actor: true
  SELLER_PENDING_DEBITED:
    from: "user:{aggregate_id}:pending"
    to: "escrow:{payload.escrow_id}"
    requires_actor: true
    compensates: SELLER_CREDITED_PENDING
  PENDING_SETTLED:
    from: "user:{aggregate_id}:pending"
    to: "user:{aggregate_id}:available"
    requires_actor: true
  FEE_CHARGED:
    from: "user:{aggregate_id}:available"
    to: "platform:fees"
    requires_actor: true
  # Events that move no money (BID_PLACED's amount is the bid, not a movement).
  AUCTION_OPENED: {}
  BID_PLACED: {}
  AUCTION_WON: {}
  AUCTION_CLOSED: {}
  OWNERSHIP_TRANSFERRED: {}
  NOTIFICATION_SENT: {}

# Projections the application keeps, reconciled against the replay.
# Each column mirrors one account; {key} is the key column's value.
projections:
  - table: user_balances
    schema: public
    key: user_id
    currency_column: currency
    columns:
      available_balance: "user:{key}:available"
      reserved_balance: "user:{key}:reserved"
      pending_balance: "user:{key}:pending"

# For evidence packs (bag-info.txt).
organization: Example Auctions Ltd.
external_description: Event store of the auction platform, audited by ledger-audit.

"""#
}
