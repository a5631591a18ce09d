import FoundationEssentials
import Logging
import Spool

/// What `relayctl` asks of the queue: hold, release, delete, flush, statistics and attempt outcomes.
///
/// Every change to one message first takes it from the index (`QueueIndex.take`): a message being delivered
/// right now is changed only once that attempt has ended, and no new attempt can start while the change is
/// made. So a delete either stops the message (the attempt deferred it: it is deleted and never retried) or
/// reports `.alreadyDelivered` (the attempt finished it) — never half of each. The spool stays the truth:
/// after taking the message, each change reads what the spool holds now and acts on that.
extension QueueRunner {
    /// Holds a queued message: it is not delivered until released, also across restarts (the flag is in its
    /// state file). A message being delivered is held after that attempt, if it is still queued then.
    public func hold(_ id: QueueID) async -> QueueOperationOutcome {
        await changing(id) { taken in
            do throws(SpoolError) {
                guard !(try await spool.state(of: id).held) else { return (.unchanged("already held"), .absent) }
                try await spool.setHeld(true, for: id)
                logger.notice("held by operator", metadata: ["id": "\(id)"])
                return (.done, .absent)  // held messages are not in the index
            } catch .notFound {
                return (taken.attemptEnded ? .alreadyDelivered : .notFound, .absent)
            } catch {
                return failure(error, of: "hold", id: id, taken: taken)
            }
        }
    }

    /// Releases a held message and makes it ready at once.
    public func release(_ id: QueueID) async -> QueueOperationOutcome {
        await changing(id) { taken in
            do throws(SpoolError) {
                let state = try await spool.state(of: id)
                guard state.held else { return (.unchanged("not held"), restored(taken, state: state)) }
                try await spool.setHeld(false, for: id)
                logger.notice("released by operator", metadata: ["id": "\(id)"])
                return (.done, .ready)
            } catch .notFound {
                return (taken.attemptEnded ? .alreadyDelivered : .notFound, .absent)
            } catch {
                return failure(error, of: "release", id: id, taken: taken)
            }
        }
    }

    /// Deletes a message, queued in any state (held, waiting, being delivered) or kept in `failed/`,
    /// durably. A message being delivered is deleted once that attempt ends, if it is still queued then;
    /// if that attempt finished it, nothing is deleted and the answer is `.alreadyDelivered` — also when it
    /// finished as failed: it is then in `failed/` with its bounce sent, and the operator should learn that
    /// it did not simply vanish (a second delete removes it from there).
    public func delete(_ id: QueueID) async -> QueueOperationOutcome {
        await changing(id) { taken in
            do throws(SpoolError) {
                try await spool.delete(id)
                logger.notice("deleted by operator", metadata: ["id": "\(id)", "from": "queue"])
                return (.done, .absent)
            } catch .notFound {
                if taken.attemptEnded { return (.alreadyDelivered, .absent) }
            } catch {
                return failure(error, of: "delete", id: id, taken: taken)
            }
            do throws(SpoolError) {
                try await spool.deleteFailed(id)
                logger.notice("deleted by operator", metadata: ["id": "\(id)", "from": "failed"])
                return (.done, .absent)
            } catch .notFound {
                return (.notFound, .absent)
            } catch {
                return failure(error, of: "delete", id: id, taken: taken)
            }
        }
    }

    /// Retries these messages now, whatever their retry time; a message being delivered is retried after
    /// that attempt if it is still queued. Held messages stay held (`.unchanged`). One outcome per id, in
    /// order.
    public func flush(_ ids: [QueueID]) async -> [QueueOperationOutcome] {
        await transport.endSuspension()
        // Concurrently, so one message whose attempt takes minutes does not hold up the others.
        return await withTaskGroup(of: (Int, QueueOperationOutcome).self) { group in
            for (position, id) in ids.enumerated() {
                group.addTask { (position, await self.retryNow(id)) }
            }
            var outcomes = [QueueOperationOutcome](repeating: .notFound, count: ids.count)
            for await (position, outcome) in group { outcomes[position] = outcome }
            return outcomes
        }
    }

    /// Makes every waiting message ready now (held ones stay held) and returns them.
    @discardableResult
    public func flushAll() async -> [QueueID] {
        await transport.endSuspension()
        let flushed = await index.flush()
        logger.notice("queue flushed by operator", metadata: ["count": "\(flushed.count)"])
        return flushed
    }

    /// The messages being delivered right now.
    public func activeIDs() async -> Set<QueueID> {
        await index.active
    }

    /// The last hour's recipient outcomes, the attempts in progress and the upstream's health.
    public func statistics() async -> DeliveryStatistics {
        let totals = counters.withLock { $0.totals(at: Date().timeIntervalSince1970) }
        return DeliveryStatistics(
            delivered: totals.sent, deferred: totals.deferred, bounced: totals.bounced,
            active: await index.active.count, upstream: await transport.status())
    }

    /// The outcome of the message's most recent attempt (among the last 1,000 attempts), or else of its next
    /// one; nil when none ends within `timeout`.
    public func awaitOutcome(of id: QueueID, timeout: Duration) async -> AttemptRecord? {
        await recentAttempts.outcome(of: id, timeout: timeout)
    }

    private func retryNow(_ id: QueueID) async -> QueueOperationOutcome {
        await changing(id) { taken in
            do throws(SpoolError) {
                guard !(try await spool.state(of: id).held) else {
                    return (.unchanged("held: release it first"), .absent)
                }
                logger.notice("flushed by operator", metadata: ["id": "\(id)"])
                return (.done, .ready)
            } catch .notFound {
                return (taken.attemptEnded ? .alreadyDelivered : .notFound, .absent)
            } catch {
                return failure(error, of: "flush", id: id, taken: taken)
            }
        }
    }

    /// Runs `change` with the message taken from the index, then puts it where `change` says.
    private func changing(
        _ id: QueueID,
        _ change: (QueueIndex.Taken) async -> (QueueOperationOutcome, QueueIndex.Position)
    ) async -> QueueOperationOutcome {
        let taken = await index.take(id)
        let (outcome, position) = await change(taken)
        await index.giveBack(id, at: position)
        return outcome
    }

    /// Where an unchanged message goes back to: where it stood, or, if the index did not have it yet (its
    /// hint not yet followed, or ignored while the message was taken), where its state says.
    private func restored(_ taken: QueueIndex.Taken, state: DeliveryState) -> QueueIndex.Position {
        if taken.position != .absent || state.held { return taken.position }
        return state.nextAttemptAt <= Date().timeIntervalSince1970 ? .ready : .waiting(until: state.nextAttemptAt)
    }

    /// A change the spool refused: logged, reported, and the message left where it stood (one the index did
    /// not have is picked up by the next scan).
    private func failure(
        _ error: SpoolError, of operation: String, id: QueueID, taken: QueueIndex.Taken
    ) -> (QueueOperationOutcome, QueueIndex.Position) {
        logger.error("operator request failed", metadata: ["id": "\(id)", "operation": "\(operation)", "error": "\(error)"])
        return (.failed(error.description), taken.position)
    }
}
