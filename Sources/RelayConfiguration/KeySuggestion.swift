/// Finds the known name closest to a misspelt one, for "did you mean …?" hints.
enum KeySuggestion {
    /// The candidate within a small edit distance of `name`, or nil when nothing is close enough to be a typo.
    static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let scored = candidates.map { (candidate: $0, distance: editDistance(name, $0)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
        // A third of the length catches abbreviations like max_msg_size without suggesting unrelated keys.
        return best.distance <= max(2, name.count / 3) ? best.candidate : nil
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }

    /// ` (did you mean x?)` or nothing, ready to append to a problem sentence.
    static func hint(for name: String, among candidates: some Sequence<String>) -> String {
        closest(to: name, among: candidates).map { " (did you mean \($0)?)" } ?? ""
    }
}
