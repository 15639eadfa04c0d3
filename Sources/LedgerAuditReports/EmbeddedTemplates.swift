/// The default templates and schema, built in: byte for byte `templates/` (a test keeps them
/// equal; edit `templates/`, then run `scripts/embed-resources`).
public enum EmbeddedTemplates {
    public static let files: [String: String] = [
        "ledger-audit-report.xsd": #"""
<?xml version="1.0" encoding="UTF-8"?>
<!-- Schema of every XML report ledger-audit writes. The tool validates each document against it
     (libxml2) before renaming the file into place; `xmllint - -schema` accepts them too. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:ledger-audit:report:1"
           targetNamespace="urn:ledger-audit:report:1"
           elementFormDefault="qualified">

  <xs:simpleType name="AmountText">
    <xs:annotation><xs:documentation>An amount rendered with its currency's ISO 4217 exponent: 12.34, -0.05, 1234.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string"><xs:pattern value="-?[0-9]+(\.[0-9]+)?"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Currency">
    <xs:restriction base="xs:string"><xs:pattern value="[A-Z]{3}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Uuid">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Sha256">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9a-f]{64}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Severity">
    <xs:restriction base="xs:string">
      <xs:enumeration value="critical"/><xs:enumeration value="high"/><xs:enumeration value="medium"/>
      <xs:enumeration value="low"/><xs:enumeration value="info"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="TimeBasis">
    <xs:restriction base="xs:string"><xs:enumeration value="hlc"/><xs:enumeration value="recorded"/></xs:restriction>
  </xs:simpleType>

  <xs:element name="ledgerAuditReport">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="header" type="Header"/>
        <xs:element name="section" type="Section" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="kind" type="xs:string" use="required"/>
      <xs:attribute name="schemaVersion" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>

  <xs:complexType name="Header">
    <xs:sequence>
      <xs:element name="reportKind" type="xs:string"/>
      <xs:element name="asOf">
        <xs:complexType>
          <xs:simpleContent>
            <xs:extension base="xs:string">
              <xs:attribute name="basis" type="TimeBasis" use="required"/>
              <xs:attribute name="allEvents" type="xs:boolean" use="required"/>
            </xs:extension>
          </xs:simpleContent>
        </xs:complexType>
      </xs:element>
      <xs:element name="from" type="xs:dateTime" minOccurs="0"/>
      <xs:element name="knownAt" type="xs:dateTime" minOccurs="0"/>
      <xs:element name="source" type="xs:string"/>
      <xs:element name="catalog">
        <xs:complexType>
          <xs:attribute name="file" type="xs:string" use="required"/>
          <xs:attribute name="sha256" type="Sha256" use="required"/>
        </xs:complexType>
      </xs:element>
      <xs:element name="population">
        <xs:complexType>
          <xs:attribute name="eventsRead" type="xs:long" use="required"/>
          <xs:attribute name="eventsInScope" type="xs:long" use="required"/>
          <xs:attribute name="eventsQuarantined" type="xs:long" use="required"/>
          <xs:attribute name="rowsMalformed" type="xs:long" use="required"/>
          <xs:attribute name="eventsUnknownType" type="xs:long" use="required"/>
          <xs:attribute name="moneyEvents" type="xs:long" use="required"/>
          <xs:attribute name="postings" type="xs:long" use="required"/>
        </xs:complexType>
      </xs:element>
      <xs:element name="controlTotals">
        <xs:annotation><xs:documentation>As OECD SAF-T: number of entries, total debit, total credit, per currency (minor units).</xs:documentation></xs:annotation>
        <xs:complexType>
          <xs:sequence>
            <xs:element name="currency" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:attribute name="code" type="Currency" use="required"/>
                <xs:attribute name="numberOfEntries" type="xs:long" use="required"/>
                <xs:attribute name="totalDebitMinor" type="xs:integer" use="required"/>
                <xs:attribute name="totalCreditMinor" type="xs:integer" use="required"/>
                <xs:attribute name="totalDebit" type="AmountText" use="required"/>
                <xs:attribute name="totalCredit" type="AmountText" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="conservation">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="net" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:simpleContent>
                  <xs:extension base="xs:integer"><xs:attribute name="currency" type="Currency" use="required"/></xs:extension>
                </xs:simpleContent>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
          <xs:attribute name="holds" type="xs:boolean" use="required"/>
        </xs:complexType>
      </xs:element>
      <xs:element name="eventsDigest" minOccurs="0">
        <xs:complexType>
          <xs:simpleContent>
            <xs:extension base="Sha256">
              <xs:attribute name="algorithm" type="xs:string" use="required"/>
              <xs:attribute name="encoding" type="xs:string" use="required"/>
            </xs:extension>
          </xs:simpleContent>
        </xs:complexType>
      </xs:element>
      <xs:element name="tool">
        <xs:complexType>
          <xs:attribute name="name" type="xs:string" use="required"/>
          <xs:attribute name="version" type="xs:string" use="required"/>
          <xs:attribute name="gitRevision" type="xs:string" use="required"/>
        </xs:complexType>
      </xs:element>
      <xs:element name="generatedAt" type="xs:dateTime"/>
      <xs:element name="runBy" type="xs:string"/>
      <xs:element name="note" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="Section">
    <xs:sequence>
      <xs:element name="figure" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType>
          <xs:simpleContent>
            <xs:extension base="xs:string"><xs:attribute name="label" type="xs:string" use="required"/></xs:extension>
          </xs:simpleContent>
        </xs:complexType>
      </xs:element>
      <xs:element name="table" type="Table" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attribute name="id" type="xs:string" use="required"/>
    <xs:attribute name="title" type="xs:string" use="required"/>
  </xs:complexType>

  <!-- A table holds rows of one kind, any number of them. Written as a choice of repeated
       elements, not a repeated choice: libxml2 runs a repeated choice as a non-deterministic
       automaton that saves a rollback point for each row, up to 10,000,000 in one element,
       so a table of ~5M rows (a trial balance at 50M events) failed validation, and the saved
       points cost ~55 bytes a row of memory until then. -->
  <xs:complexType name="Table">
    <xs:choice minOccurs="0">
      <xs:element name="balance" type="Balance" maxOccurs="unbounded"/>
      <xs:element name="kindTotal" type="KindTotal" maxOccurs="unbounded"/>
      <xs:element name="trialBalanceLine" type="TrialBalanceLine" maxOccurs="unbounded"/>
      <xs:element name="finding" type="Finding" maxOccurs="unbounded"/>
      <xs:element name="limboHold" type="LimboHold" maxOccurs="unbounded"/>
      <xs:element name="agingBucket" type="AgingBucket" maxOccurs="unbounded"/>
      <xs:element name="checkRun" type="CheckRun" maxOccurs="unbounded"/>
      <xs:element name="reconciliationLine" type="ReconciliationLine" maxOccurs="unbounded"/>
      <xs:element name="movement" type="Movement" maxOccurs="unbounded"/>
      <xs:element name="statementSummary" type="StatementSummary" maxOccurs="unbounded"/>
      <xs:element name="statementLine" type="StatementLine" maxOccurs="unbounded"/>
      <xs:element name="traceEvent" type="TraceEvent" maxOccurs="unbounded"/>
      <xs:element name="eventPosting" type="EventPosting" maxOccurs="unbounded"/>
      <xs:element name="postingCheck" type="PostingCheck" maxOccurs="unbounded"/>
      <xs:element name="tracePosting" type="TracePosting" maxOccurs="unbounded"/>
      <xs:element name="provenanceOrigin" type="ProvenanceOrigin" maxOccurs="unbounded"/>
      <xs:element name="provenanceLot" type="ProvenanceLot" maxOccurs="unbounded"/>
      <xs:element name="sealCheck" type="SealCheck" maxOccurs="unbounded"/>
    </xs:choice>
    <xs:attribute name="title" type="xs:string" use="required"/>
    <xs:attribute name="csv" type="xs:string"/>
    <xs:attribute name="rows" type="xs:long" use="required"/>
  </xs:complexType>

  <!-- balances.csv: account, currency, balance_minor, balance -->
  <xs:complexType name="Balance">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="balanceMinor" type="xs:long" use="required"/>
    <xs:attribute name="balance" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- The trial balance grouped by account kind, with totals per currency. -->
  <xs:complexType name="KindTotal">
    <xs:attribute name="kind" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="accounts" type="xs:long" use="required"/>
    <xs:attribute name="debitBalancesMinor" type="xs:integer" use="required"/>
    <xs:attribute name="creditBalancesMinor" type="xs:integer" use="required"/>
    <xs:attribute name="netMinor" type="xs:integer" use="required"/>
    <xs:attribute name="net" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- trial_balance.csv -->
  <xs:complexType name="TrialBalanceLine">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="kind" type="xs:string" use="required"/>
    <xs:attribute name="beginningBalanceMinor" type="xs:long" use="required"/>
    <xs:attribute name="debitsMinor" type="xs:integer" use="required"/>
    <xs:attribute name="creditsMinor" type="xs:integer" use="required"/>
    <xs:attribute name="endingBalanceMinor" type="xs:long" use="required"/>
    <xs:attribute name="beginningBalance" type="AmountText" use="required"/>
    <xs:attribute name="endingBalance" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- findings.csv -->
  <xs:complexType name="Finding">
    <xs:attribute name="code" type="xs:string" use="required"/>
    <xs:attribute name="severity" type="Severity" use="required"/>
    <xs:attribute name="eventId" type="Uuid"/>
    <xs:attribute name="aggregateId" type="Uuid"/>
    <xs:attribute name="account" type="xs:string"/>
    <xs:attribute name="amountMinor" type="xs:long"/>
    <xs:attribute name="message" type="xs:string" use="required"/>
    <xs:attribute name="controls" type="xs:string" use="required"/>
    <xs:attribute name="streamVersion" type="xs:long"/>
    <xs:attribute name="currency" type="xs:string"/>
    <xs:attribute name="location" type="xs:string"/>
    <xs:attribute name="evidence" type="xs:string"/>
  </xs:complexType>

  <!-- limbo.csv -->
  <xs:complexType name="LimboHold">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="holdKey" type="xs:string"/>
    <xs:attribute name="amountMinor" type="xs:integer" use="required"/><!-- a hold can sum past Int64 -->
    <xs:attribute name="sinceHlcPhysical" type="xs:long" use="required"/>
    <xs:attribute name="ageHours" type="AmountText" use="required"/>
    <xs:attribute name="correlationId" type="Uuid" use="required"/>
    <xs:attribute name="lastEventId" type="Uuid" use="required"/>
  </xs:complexType>

  <!-- Aging of open holds per currency: 0–1 d, 1–3 d, 3–7 d, > 7 d. -->
  <xs:complexType name="AgingBucket">
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="age" type="xs:string" use="required"/>
    <xs:attribute name="holds" type="xs:long" use="required"/>
    <xs:attribute name="amountMinor" type="xs:integer" use="required"/>
    <xs:attribute name="amount" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- Which checks ran. -->
  <xs:complexType name="CheckRun">
    <xs:attribute name="check" type="xs:string" use="required"/>
    <xs:attribute name="codes" type="xs:string" use="required"/>
    <xs:attribute name="status" use="required">
      <xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value="ran"/><xs:enumeration value="skipped"/></xs:restriction></xs:simpleType>
    </xs:attribute>
    <xs:attribute name="note" type="xs:string"/>
  </xs:complexType>

  <!-- reconciliation.csv -->
  <xs:complexType name="ReconciliationLine">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="xs:string" use="required"/>
    <xs:attribute name="replayedMinor" type="xs:long"/>
    <xs:attribute name="projectedMinor" type="xs:long"/>
    <xs:attribute name="differenceMinor" type="xs:integer" use="required"/>
    <xs:attribute name="status" use="required">
      <xs:simpleType><xs:restriction base="xs:string">
        <xs:enumeration value="match"/><xs:enumeration value="mismatch"/>
        <xs:enumeration value="missing_in_projection"/><xs:enumeration value="missing_in_events"/>
      </xs:restriction></xs:simpleType>
    </xs:attribute>
    <xs:attribute name="suspectEventId" type="Uuid"/>
    <xs:attribute name="projection" type="xs:string" use="required"/>
  </xs:complexType>

  <!-- The last movements of a mismatched account. -->
  <xs:complexType name="Movement">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="xs:string" use="required"/>
    <xs:attribute name="eventId" type="Uuid" use="required"/>
    <xs:attribute name="eventType" type="xs:string" use="required"/>
    <xs:attribute name="hlcPhysical" type="xs:long" use="required"/>
    <xs:attribute name="amountMinor" type="xs:long" use="required"/>
    <xs:attribute name="balanceAfterMinor" type="xs:long" use="required"/>
    <xs:attribute name="note" type="xs:string"/>
  </xs:complexType>

  <!-- statement: opening and closing per account and currency -->
  <xs:complexType name="StatementSummary">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="openingMinor" type="xs:long" use="required"/>
    <xs:attribute name="movements" type="xs:long" use="required"/>
    <xs:attribute name="closingMinor" type="xs:long" use="required"/>
    <xs:attribute name="opening" type="AmountText" use="required"/>
    <xs:attribute name="closing" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- statement.csv -->
  <xs:complexType name="StatementLine">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="eventId" type="Uuid" use="required"/>
    <xs:attribute name="eventType" type="xs:string" use="required"/>
    <xs:attribute name="hlcPhysical" type="xs:long" use="required"/>
    <xs:attribute name="recordedAt" type="xs:dateTime" use="required"/>
    <xs:attribute name="correlationId" type="Uuid" use="required"/>
    <xs:attribute name="userId" type="Uuid"/>
    <xs:attribute name="amountMinor" type="xs:long" use="required"/>
    <xs:attribute name="runningBalanceMinor" type="xs:long" use="required"/>
  </xs:complexType>
  <!-- trace_events.csv: causes, the event, effects and saga -->
  <xs:complexType name="TraceEvent">
    <xs:attribute name="relation" type="xs:string" use="required"/>
    <xs:attribute name="depth" type="xs:long"/>
    <xs:attribute name="tree" type="xs:string" use="required"/>
    <xs:attribute name="eventId" type="Uuid" use="required"/>
    <xs:attribute name="eventType" type="xs:string"/>
    <xs:attribute name="aggregateId" type="Uuid"/>
    <xs:attribute name="hlcPhysical" type="xs:long"/>
    <xs:attribute name="hlcLogical" type="xs:long"/>
    <xs:attribute name="recordedAt" type="xs:dateTime"/>
    <xs:attribute name="causationId" type="Uuid"/>
    <xs:attribute name="correlationId" type="Uuid"/>
    <xs:attribute name="userId" type="Uuid"/>
    <xs:attribute name="compensates" type="xs:string"/>
    <xs:attribute name="moved" type="xs:string"/>
  </xs:complexType>

  <!-- trace_event_postings.csv -->
  <xs:complexType name="EventPosting">
    <xs:attribute name="eventId" type="Uuid" use="required"/>
    <xs:attribute name="eventType" type="xs:string" use="required"/>
    <xs:attribute name="postingIndex" type="xs:long" use="required"/>
    <xs:attribute name="fromAccount" type="xs:string" use="required"/>
    <xs:attribute name="toAccount" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="amountMinor" type="xs:long" use="required"/>
    <xs:attribute name="amount" type="AmountText" use="required"/>
  </xs:complexType>

  <!-- trace by account: postings and lots against the balance -->
  <xs:complexType name="PostingCheck">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="postings" type="xs:long" use="required"/>
    <xs:attribute name="sumMinor" type="xs:integer" use="required"/>
    <xs:attribute name="balanceMinor" type="xs:long" use="required"/>
    <xs:attribute name="lotsMinor" type="xs:integer" use="required"/>
    <xs:attribute name="deficitMinor" type="xs:integer" use="required"/>
    <xs:attribute name="agrees" type="xs:string" use="required"/>
  </xs:complexType>

  <!-- trace_postings.csv -->
  <xs:complexType name="TracePosting">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="eventId" type="Uuid" use="required"/>
    <xs:attribute name="eventType" type="xs:string" use="required"/>
    <xs:attribute name="hlcPhysical" type="xs:long" use="required"/>
    <xs:attribute name="correlationId" type="Uuid" use="required"/>
    <xs:attribute name="amountMinor" type="xs:long" use="required"/>
    <xs:attribute name="runningBalanceMinor" type="xs:long" use="required"/>
    <xs:attribute name="rootEventId" type="Uuid"/>
    <xs:attribute name="rootCommandId" type="Uuid"/>
    <xs:attribute name="causationChain" type="xs:string"/>
  </xs:complexType>

  <!-- provenance by origin -->
  <xs:complexType name="ProvenanceOrigin">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="originEventId" type="Uuid" use="required"/>
    <xs:attribute name="originEventType" type="xs:string"/>
    <xs:attribute name="originAccount" type="xs:string" use="required"/>
    <xs:attribute name="originHlcPhysical" type="xs:long"/>
    <xs:attribute name="amountMinor" type="xs:integer" use="required"/>
    <xs:attribute name="amount" type="AmountText" use="required"/>
    <xs:attribute name="lots" type="xs:long" use="required"/>
  </xs:complexType>

  <!-- provenance.csv -->
  <xs:complexType name="ProvenanceLot">
    <xs:attribute name="account" type="xs:string" use="required"/>
    <xs:attribute name="currency" type="Currency" use="required"/>
    <xs:attribute name="lot" type="xs:long" use="required"/>
    <xs:attribute name="originEventId" type="Uuid" use="required"/>
    <xs:attribute name="originEventType" type="xs:string"/>
    <xs:attribute name="originAccount" type="xs:string"/>
    <xs:attribute name="originHlcPhysical" type="xs:long"/>
    <xs:attribute name="amountMinor" type="xs:long" use="required"/>
    <xs:attribute name="path" type="xs:string" use="required"/>
  </xs:complexType>
  <!-- verify with seals: each seal against the store -->
  <xs:complexType name="SealCheck">
    <xs:attribute name="seal" type="xs:long" use="required"/>
    <xs:attribute name="treeSize" type="xs:long" use="required"/>
    <xs:attribute name="asOf" type="xs:dateTime" use="required"/>
    <xs:attribute name="sealedAt" type="xs:dateTime" use="required"/>
    <xs:attribute name="rootSha256" type="xs:string" use="required"/>
    <xs:attribute name="result" type="xs:string" use="required"/>
    <xs:attribute name="proofHashes" type="xs:long" use="required"/>
    <!-- with the tsa-ca option: the TSA's time from the seal's RFC 3161 token (GeneralizedTime), "no token" or "INVALID" -->
    <xs:attribute name="trustedTime" type="xs:string"/>
  </xs:complexType>
</xs:schema>

"""#,
        "report.mustache": #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ledger-audit {{toolVersion}}">
<title>{{title}} — ledger-audit</title>
<style>
  /* Self-contained: no fonts, scripts or images from anywhere. Edit freely to brand. */
  :root { --ink: #1d2430; --muted: #5b6576; --rule: #d5dae1; --band: #f3f5f8; --accent: #1f4e8c; --bad: #a1261b; --good: #1d6b3a; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0; background: #fff; }
  header.masthead { background: var(--accent); color: #fff; padding: 18px 32px; }
  header.masthead h1 { margin: 0; font-size: 22px; font-weight: 600; }
  header.masthead .sub { opacity: .85; font-size: 13px; margin-top: 2px; }
  main { padding: 8px 32px 40px; max-width: 1400px; }
  h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
  h3 { font-size: 15px; margin: 18px 0 6px; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 8px 0; }
  dl.facts dt { color: var(--muted); }
  dl.facts dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
  .figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
  .figure { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 14px; min-width: 140px; background: var(--band); }
  .figure .label { color: var(--muted); font-size: 12px; }
  .figure .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; font-size: 13px; }
  th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; word-break: normal; }
  th { background: var(--band); font-weight: 600; position: sticky; top: 0; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.total td { font-weight: 600; border-top: 2px solid var(--ink); }
  .note { color: var(--muted); font-size: 12.5px; margin: 4px 0 12px; }
  .ok { color: var(--good); font-weight: 600; }
  .bad { color: var(--bad); font-weight: 600; }
  article.finding { border: 1px solid var(--rule); border-left: 5px solid var(--muted); border-radius: 4px; padding: 8px 12px; margin: 8px 0; break-inside: avoid; }
  article.finding.critical, article.finding.high { border-left-color: var(--bad); }
  article.finding.medium { border-left-color: #b7791f; }
  article.finding .head { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; }
  article.finding .sev { text-transform: uppercase; font-size: 11px; font-weight: 700; letter-spacing: .04em; color: var(--muted); }
  article.finding.critical .sev, article.finding.high .sev { color: var(--bad); }
  article.finding .code { font-weight: 700; }
  article.finding p { margin: 4px 0; }
  article.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 4px 0 0; font-size: 12.5px; }
  article.finding dt { color: var(--muted); }
  article.finding dd { margin: 0; overflow-wrap: anywhere; }
  figure.chart { margin: 10px 0 16px; max-width: 760px; break-inside: avoid; }
  figure.chart svg { width: 100%; height: auto; display: block; }
  figure.chart figcaption { font-size: 12.5px; color: var(--muted); }
  td.tree { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; white-space: pre; }
  footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--rule); margin-top: 36px; padding-top: 8px; }
  @media print {
    body { font-size: 11px; }
    header.masthead { background: none; color: var(--ink); border-bottom: 2px solid var(--ink); padding: 0 0 6px; }
    main { padding: 0; max-width: none; }
    section.report-section { break-before: page; }
    thead { display: table-header-group; }
    tr { break-inside: avoid; }
    th { position: static; }
    .figure { background: none; }
  }
</style>
</head>
<body>
<header class="masthead">
  <h1>{{title}}</h1>
  <div class="sub">{{subtitle}}</div>
</header>
<main>
<section class="report-header">
  <h2>Population and provenance</h2>
  <dl class="facts">
    {{#facts}}<dt>{{label}}</dt><dd{{#mono}} class="mono"{{/mono}}>{{value}}</dd>
    {{/facts}}
  </dl>
  <h3>Control totals</h3>
  <table>
    <thead><tr><th>Currency</th><th class="num">Number of entries</th><th class="num">Total debit</th><th class="num">Total credit</th><th class="num">Net of all accounts</th></tr></thead>
    <tbody>
    {{#controlTotals}}<tr><td>{{currency}}</td><td class="num">{{entries}}</td><td class="num">{{debit}}</td><td class="num">{{credit}}</td><td class="num">{{net}}</td></tr>
    {{/controlTotals}}
    {{^controlTotals}}<tr><td colspan="5">No postings in scope.</td></tr>{{/controlTotals}}
    </tbody>
  </table>
  {{#notes}}<p class="note">{{.}}</p>
  {{/notes}}
</section>
{{#sections}}{{{html}}}
{{/sections}}
<footer>
  Generated by ledger-audit {{toolVersion}} ({{gitRevision}}) at {{generatedAt}}. Amounts are exact; card numbers are masked to their last four digits.
  Every CSV named here holds all rows of its table.
</footer>
</main>
</body>
</html>

"""#,
        "section-findings.mustache": #"""
<section class="report-section" id="{{id}}">
  <h2>{{title}}</h2>
  {{#hasFigures}}<div class="figures">
    {{#figures}}<div class="figure"><div class="label">{{label}}</div><div class="value">{{value}}</div></div>
    {{/figures}}
  </div>{{/hasFigures}}
  {{#tables}}
  {{#truncated}}<p class="note">Showing the first {{shownCount}} of {{totalCount}} findings. All are in <span class="mono">{{csvName}}</span>.</p>{{/truncated}}
  {{^truncated}}{{#csvName}}<p class="note">{{totalCount}} {{#single}}finding{{/single}}{{^single}}findings{{/single}}; also in <span class="mono">{{csvName}}</span>.</p>{{/csvName}}{{/truncated}}
  {{#rows}}
  <article class="finding {{fields.severity}}">
    <div class="head"><span class="sev">{{fields.severity}}</span><span class="code">{{fields.code}}</span>{{#fields.account}}<span class="mono">{{fields.account}}</span>{{/fields.account}}{{#fields.amount_minor}}<span>amount {{fields.amount_minor}} {{fields.currency}} (minor units)</span>{{/fields.amount_minor}}</div>
    <p>{{fields.message}}</p>
    <dl>
      {{#fields.event_id}}<dt>event</dt><dd class="mono">{{fields.event_id}}{{#fields.stream_version}} · stream version {{fields.stream_version}}{{/fields.stream_version}}</dd>{{/fields.event_id}}
      {{#fields.aggregate_id}}<dt>aggregate</dt><dd class="mono">{{fields.aggregate_id}}</dd>{{/fields.aggregate_id}}
      {{#fields.location}}<dt>where</dt><dd>{{fields.location}}</dd>{{/fields.location}}
      {{#fields.evidence}}<dt>evidence</dt><dd class="mono">{{fields.evidence}}</dd>{{/fields.evidence}}
      <dt>controls</dt><dd>{{fields.controls}}</dd>
    </dl>
  </article>
  {{/rows}}
  {{^rows}}<p>No findings.</p>{{/rows}}
  {{/tables}}
</section>

"""#,
        "section.mustache": #"""
<section class="report-section" id="{{id}}">
  <h2>{{title}}</h2>
  {{#hasFigures}}<div class="figures">
    {{#figures}}<div class="figure"><div class="label">{{label}}</div><div class="value">{{value}}</div></div>
    {{/figures}}
  </div>{{/hasFigures}}
  {{#charts}}<figure class="chart">{{{svg}}}<figcaption>{{caption}}</figcaption></figure>
  {{/charts}}
  {{#tables}}
  <h3>{{title}}</h3>
  {{#truncated}}<p class="note">Showing the first {{shownCount}} of {{totalCount}} rows. All rows are in <span class="mono">{{csvName}}</span>.</p>{{/truncated}}
  {{^truncated}}{{#csvName}}<p class="note">{{totalCount}} {{#single}}row{{/single}}{{^single}}rows{{/single}}; also in <span class="mono">{{csvName}}</span>{{#narrowed}}, with every column{{/narrowed}}.</p>{{/csvName}}{{/truncated}}
  <table>
    <thead><tr>{{#columns}}<th{{#numeric}} class="num"{{/numeric}}>{{name}}</th>{{/columns}}</tr></thead>
    <tbody>
    {{#rows}}<tr{{#total}} class="total"{{/total}}>{{#cells}}<td{{#numeric}} class="num"{{/numeric}}{{#tree}} class="tree"{{/tree}}>{{text}}</td>{{/cells}}</tr>
    {{/rows}}
    {{^rows}}<tr><td colspan="{{columnCount}}">None.</td></tr>{{/rows}}
    </tbody>
  </table>
  {{/tables}}
</section>

"""#,
    ]
}
