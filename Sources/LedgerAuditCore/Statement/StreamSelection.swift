/// Which streams can hold every posting of some accounts. When each account template that could
/// name a selected account is keyed by `{aggregate_id}` alone (`user:{aggregate_id}:available`),
/// the selected accounts' postings all come from the events of the aggregates named in the
/// filters, so a source may read just those streams (the PostgreSQL `(aggregate_id,
/// stream_version)` index) instead of the whole store. Pure and conservative: any template that
/// might reach a selected account through another field rules the shortcut out.
public enum StreamSelection {
    /// The aggregates to read, or nil when the whole store must be read.
    public static func aggregates(for filters: [String], catalog: Catalog) -> [EventID]? {
        guard !filters.isEmpty else { return nil }
        let templates = catalog.events.values.flatMap { $0.postings.flatMap { [$0.from, $0.to] } }
        var ids: [EventID] = []
        for filter in filters {
            let isPrefix = filter.hasSuffix("*")
            let wanted = isPrefix ? String(filter.dropLast()) : filter
            var reachedBy: EventID?
            for template in templates {
                let lead = template.leadingLiteral
                // Could this template name an account the filter selects?
                let couldMatch: Bool
                if template.segments.count == 1, case .literal(let whole) = template.segments[0] {
                    couldMatch = isPrefix ? whole.hasPrefix(wanted) : whole == wanted
                } else {
                    couldMatch = wanted.hasPrefix(lead) || lead.hasPrefix(wanted)
                }
                guard couldMatch else { continue }
                guard template.isKeyedByAggregateOnly, case .column(.aggregateId)? = template.segments.dropFirst(lead.isEmpty ? 0 : 1).first else { return nil }
                // The aggregate id follows the leading literal in the filter.
                let rest = wanted.utf8.dropFirst(lead.utf8.count)
                guard rest.count >= 36, let id = EventID(String(decoding: rest.prefix(36), as: UTF8.self)) else { return nil }
                if let r = reachedBy, r != id { return nil }
                reachedBy = id
            }
            // No template can name it: it never has postings, and no stream is needed for it.
            if let r = reachedBy, !ids.contains(r) { ids.append(r) }
        }
        return ids
    }
}

extension AccountTemplate {
    /// The literal text before the first placeholder.
    public var leadingLiteral: String {
        if case .literal(let s)? = segments.first { return s }
        return ""
    }
}
