/// Wakes one waiter early: a loop that polls on a timer waits on it, and whoever has news for
/// the loop rings. A ring with nobody waiting is kept for the next wait.
actor Doorbell {
    private var waiter: CheckedContinuation<Void, Never>?
    private var rung = false

    func ring() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            rung = true
        }
    }

    /// Returns at the next ring, or after `limit`, whichever comes first.
    func wait(upTo limit: Duration) async {
        if rung {
            rung = false
            return
        }
        let timer = Task { [weak self] in
            // Cancelled (the waiter was rung first): no ring, or the next wait would return at once.
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            await self?.ring()
        }
        await withCheckedContinuation { waiter = $0 }
        rung = false
        timer.cancel()
    }
}
