import Configuration

/// Serves one already-parsed, immutable snapshot as a provider.
///
/// swift-configuration's `FileProvider` reads the file itself and its initialiser is `async`; configuration is
/// loaded synchronously before relayd starts its services, and the bytes are needed anyway for the key check,
/// so we parse them once with `YAMLSnapshot` and serve that.
struct SnapshotProvider<Snapshot: ConfigSnapshot>: ConfigProvider {
    let wrapped: Snapshot

    var providerName: String { wrapped.providerName }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try wrapped.value(forKey: key, type: type)
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { wrapped }

    func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
