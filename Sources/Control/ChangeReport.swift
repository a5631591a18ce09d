import FastJSON
import Spool

/// The answer to `flush`, `hold`, `release` and `delete`: what became of each message asked about.
public struct ChangeReport: Sendable, Equatable {
    /// One message's result.
    public struct Item: Sendable, Equatable {
        /// What happened to the message.
        public enum Result: String, Sendable, CaseIterable {
            /// Changed as asked.
            case done
            /// In neither `queue/` nor `failed/`.
            case notFound = "not_found"
            /// Delivered (or finished) before the change could apply.
            case alreadyDelivered = "already_delivered"
            /// Already as asked (held when held, not held when released); nothing to do.
            case unchanged
        }

        public var id: QueueID
        public var result: Result
        /// A short explanation for an operator, e.g. why nothing changed.
        public var detail: String?

        public init(id: QueueID, result: Result, detail: String? = nil) {
            self.id = id
            self.result = result
            self.detail = detail
        }
    }

    public var items: [Item]

    public init(items: [Item]) {
        self.items = items
    }

    /// Messages changed (`done`).
    public var count: Int { items.lazy.filter { $0.result == .done }.count }
}

extension ChangeReport: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("count"); w.int(count)
            w.key("items")
            w.array(items) { w, item in
                w.object { w in
                    w.key("id"); w.string(item.id.rawValue)
                    w.key("result"); w.string(item.result.rawValue)
                    w.key("detail"); w.string(item.detail)
                }
            }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        var items: [Item] = []
        for item in try v.array("items") {
            items.append(Item(id: try item.queueID("id"), result: try item.oneOf("result", Item.Result.self), detail: try item.optionalString("detail")))
        }
        self.init(items: items)
    }
}
