import LedgerAuditCore
import Yams

/// `store:` of the catalog: the reference table by default, or any store's layout (see
/// StoreMapping and the samples under samples/stores/).
extension NodeReader {
    static let storeKeys: Set<String> = [
        "schema", "table", "application_role", "join", "order", "fields", "json_columns", "stream_version_base",
        "time_without_zone", "event_type_from_topic", "causation_names", "stream_currency", "type_tagged_values", "time_epoch",
    ]

    func store(_ node: Node) throws(ConfigError) -> StoreLocation {
        var store = StoreLocation()
        var join: StoreMapping.Join?
        var order: [String]?
        var orderNode: Node?
        var fields: [StoreMapping.Field: String] = [:]
        var fieldsNode: Node?
        var jsonColumns: [String: StoreMapping.JSONColumnType] = [:]
        var base: Int64 = 1
        var withoutZone = false, fromTopic = false, tagged = false
        var causationNames = StoreMapping.CausationNames.eventId
        var streamCurrency: [String]?
        var epoch: StoreMapping.EpochUnit?
        var mappingKeyNode: Node?
        for (k, kn, v) in try mapping(node, "store", allowed: NodeReader.storeKeys) {
            let path = "store.\(k)"
            if !["schema", "table", "application_role"].contains(k) { mappingKeyNode = mappingKeyNode ?? kn }
            switch k {
            case "schema": store.schema = try identifier(v, path)
            case "table": store.table = try identifier(v, path)
            case "application_role": store.applicationRole = try identifier(v, path)
            case "join":
                var schema = "public", table: String?
                var on: [(events: String, joined: String)] = []
                for (jk, _, jv) in try mapping(v, path, allowed: ["schema", "table", "on"]) {
                    switch jk {
                    case "schema": schema = try identifier(jv, "\(path).schema")
                    case "table": table = try identifier(jv, "\(path).table")
                    default:
                        for (left, _, right) in try mapping(jv, "\(path).on", allowed: []) {
                            on.append((left, try identifier(right, "\(path).on.\(left)")))
                        }
                    }
                }
                guard let table, !on.isEmpty else { throw fail(v, path, "a join needs table and on (events column: joined column)") }
                join = StoreMapping.Join(schema: schema, table: table, on: on)
            case "order":
                orderNode = v
                guard let seq = v.sequence, !seq.isEmpty else { throw fail(v, path, "expected a list of columns (the global order, ascending)") }
                var columns: [String] = []
                for (i, item) in seq.enumerated() { columns.append(try identifier(item, "\(path)[\(i)]")) }
                order = columns
            case "fields":
                fieldsNode = v
                for (name, _, fv) in try mapping(v, path, allowed: Set(StoreMapping.Field.allCases.map(\.rawValue))) {
                    fields[StoreMapping.Field(rawValue: name)!] = try identifier(fv, "\(path).\(name)")
                }
            case "json_columns":
                for (column, _, tv) in try mapping(v, path, allowed: []) {
                    let t = try string(tv, "\(path).\(column)")
                    guard let type = StoreMapping.JSONColumnType(rawValue: t) else {
                        throw fail(tv, "\(path).\(column)", "expected one of " + StoreMapping.JSONColumnType.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    jsonColumns[column] = type
                }
            case "stream_version_base": base = try int64(v, path, min: 0, max: 1)
            case "time_without_zone": withoutZone = try bool(v, path)
            case "event_type_from_topic": fromTopic = try bool(v, path)
            case "type_tagged_values": tagged = try bool(v, path)
            case "time_epoch":
                let u = try string(v, path)
                guard let unit = StoreMapping.EpochUnit(rawValue: u) else { throw fail(v, path, "expected s, ms or us (an integer time since 1970-01-01 UTC)") }
                epoch = unit
            case "causation_names":
                let s = try string(v, path)
                guard let c = StoreMapping.CausationNames(rawValue: s) else { throw fail(v, path, "expected event_id or position, found '\(s)'") }
                causationNames = c
            default:
                let s = try string(v, path)
                guard !s.isEmpty else { throw fail(v, path, "expected a payload path") }
                streamCurrency = s.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            }
        }
        guard let keyNode = mappingKeyNode else { return store }
        // A layout other than the reference table: the order and every field must be stated.
        guard let order else { throw fail(keyNode, "store.order", "a store layout needs order: the columns of its global order") }
        guard let fieldsNode else { throw fail(keyNode, "store.fields", "a store layout needs fields: where each part of an event is") }
        var sources: [StoreMapping.Field: StoreMapping.Source] = [:]
        for field in StoreMapping.Field.allCases {
            guard let text = fields[field] else {
                throw fail(fieldsNode, "store.fields.\(field.rawValue)", "is required (a column, column->json->path, or absent)")
            }
            let source = try fieldSource(text, join: join, jsonColumns: jsonColumns, node: fieldsNode, key: "store.fields.\(field.rawValue)")
            if field.required, source == .absent { throw fail(fieldsNode, "store.fields.\(field.rawValue)", "every event has one; it cannot be absent") }
            if field == .payload || field == .metadata, case .column(let c) = source, jsonColumns[c.name] == nil {
                jsonColumns[c.name] = .jsonb
            }
            sources[field] = source
        }
        if causationNames == .position, order.count != 1 {
            throw fail(orderNode, "store.causation_names", "position needs an order of one column (the position a causation value names)")
        }
        store.mapping = StoreMapping(
            join: join, order: order.map { StoreMapping.Column($0) }, fields: sources, jsonColumns: jsonColumns,
            streamVersionBase: base, timeWithoutZone: withoutZone, eventTypeFromTopic: fromTopic,
            causationNames: causationNames, streamCurrencyPath: streamCurrency, typeTaggedValues: tagged, timeEpochUnit: epoch)
        return store
    }

    /// `column`, `table.column` (the joined table), `column->key->key` (into a JSON column), or `absent`.
    func fieldSource(_ text: String, join: StoreMapping.Join?, jsonColumns: [String: StoreMapping.JSONColumnType], node: Node, key: String) throws(ConfigError) -> StoreMapping.Source {
        if text == "absent" { return .absent }
        let parts = text.components(separatedBy: "->")
        guard parts.allSatisfy({ !$0.isEmpty }) else { throw fail(node, key, "'\(text)' has an empty name") }
        var columnName = parts[0]
        var joined = false
        if let join, columnName.hasPrefix(join.table + ".") {
            columnName = String(columnName.dropFirst(join.table.count + 1))
            joined = true
        }
        let column = StoreMapping.Column(columnName, joined: joined)
        guard parts.count > 1 else { return .column(column) }
        guard jsonColumns[columnName] != nil else {
            throw fail(node, key, "'\(text)' reads into column \(columnName), which json_columns does not name (jsonb, json, text or bytea)")
        }
        return .json(column, path: Array(parts.dropFirst()))
    }
}
