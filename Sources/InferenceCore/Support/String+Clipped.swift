extension String {
    /// The string as it may be quoted in an error message or a log line: at most `limit`
    /// characters, followed by "…" and the full length when longer. A client or a file can send
    /// names and values of megabytes; quoting them whole would echo megabytes into every answer
    /// and every log line.
    public func clipped(to limit: Int = 80) -> String {
        guard count > limit else { return self }
        return "\(prefix(limit))… (\(count) characters)"
    }
}
