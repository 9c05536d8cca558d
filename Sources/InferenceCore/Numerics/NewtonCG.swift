/// Minimises a smooth, strictly convex function by Newton's method, solving each Newton system
/// with conjugate gradients on Hessian-vector products, so the Hessian is never formed, or
/// directly when the objective can form its (small) Hessian more cheaply than CG would multiply
/// by it.
///
/// This converges quadratically near the optimum, which is what a tight tolerance needs.
struct NewtonCG {
    /// The objective at a point: its value, gradient, and a Hessian-vector product there.
    struct Evaluation {
        var value: Double
        var gradient: [Double]
        var hessianTimes: ([Double]) -> [Double]
        /// Solves `Hessian · x = b` directly, or `nil` where the Hessian is not formed or not
        /// positive definite; CG on `hessianTimes` is used then.
        var solve: (([Double]) -> [Double]?)? = nil
    }

    /// Stop when the largest gradient component is at most this.
    var gradientTolerance = 1e-10
    var maxIterations = 200
    /// Near the optimum Newton's method at least halves the gradient each step; when it stops
    /// doing so for this many steps, rounding has taken over and further steps are noise.
    var stagnationLimit = 3
    /// A predicted decrease below this, relative to the value, is treated as beyond measuring.
    var unmeasurableDecrease = 1e-10
    /// Once within ``gradientTolerance``, take one more Newton step where the objective formed its
    /// Hessian (``Evaluation/solve``): no evaluation, so no pass over the data, and from there
    /// quadratic convergence lands it on the optimum to about the square of the gradient. The
    /// step is taken unchecked only when its predicted decrease (half the squared Newton
    /// decrement) is below ``trustedDecrease``; a larger one means the point is still far out
    /// along some flat direction, and the steps go on as before.
    var finishesWithFormedStep = false
    var trustedDecrease = 1e-6

    /// The minimiser, starting from `start`, and the number of Newton steps taken.
    func minimize(from start: [Double], _ evaluate: ([Double]) -> Evaluation, value: ([Double]) -> Double) -> (point: [Double], iterations: Int) {
        var point = start
        var current = evaluate(point)
        var previousNorm = Double.infinity
        var stagnantSteps = 0
        for iteration in 0..<maxIterations {
            let gradientNorm = current.gradient.map(abs).max() ?? 0
            var formedStep: [Double]?
            if gradientNorm <= gradientTolerance {
                guard finishesWithFormedStep, let solve = current.solve, let step = solve(current.gradient.map { -$0 }) else { return (point, iteration) }
                let decrease = -dot(current.gradient, step) / 2
                if decrease <= trustedDecrease { return (zip(point, step).map { $0 + $1 }, iteration) }
                formedStep = step
            }
            stagnantSteps = gradientNorm < 1e-6 && gradientNorm > previousNorm / 2 ? stagnantSteps + 1 : 0
            if stagnantSteps >= stagnationLimit { return (point, iteration) }
            previousNorm = gradientNorm
            let downhill = current.gradient.map { -$0 }
            let direction = formedStep ?? current.solve?(downhill)
                ?? conjugateGradient(current.hessianTimes, rightHandSide: downhill,
                                     tolerance: min(0.5, gradientNorm.squareRoot()) * norm(current.gradient))
            let slope = zip(current.gradient, direction).reduce(0) { $0 + $1.0 * $1.1 }
            if -slope <= unmeasurableDecrease * max(1, abs(current.value)) {
                // The decrease this step promises is below the rounding of a sum over many rows, so
                // comparing values would only halve the step again and again. This close to the
                // optimum the full Newton step is right; it is kept while it shrinks the gradient.
                let candidate = zip(point, direction).map { $0 + $1 }
                let next = evaluate(candidate)
                guard (next.gradient.map(abs).max() ?? 0) < gradientNorm else { return (point, iteration) }
                point = candidate
                current = next
                continue
            }
            // Backtracking on the sufficient-decrease condition. The full step is almost always
            // taken, so it is evaluated whole: its gradient then serves the next step as it is.
            var step = 1.0
            var accepted: Evaluation?
            for attempt in 0..<40 {
                let candidate = zip(point, direction).map { $0 + step * $1 }
                if attempt == 0 {
                    let full = evaluate(candidate)
                    if full.value <= current.value + 1e-4 * slope {
                        (point, accepted) = (candidate, full)
                        break
                    }
                } else if value(candidate) <= current.value + 1e-4 * step * slope {
                    (point, accepted) = (candidate, evaluate(candidate))
                    break
                }
                step /= 2
            }
            // No decrease is measurable any more: the optimum is reached to rounding.
            guard let accepted else { return (point, iteration) }
            current = accepted
        }
        return (point, maxIterations)
    }

    private func conjugateGradient(_ multiply: ([Double]) -> [Double], rightHandSide b: [Double], tolerance: Double) -> [Double] {
        var x = [Double](repeating: 0, count: b.count)
        var residual = b
        var direction = residual
        var residualSquared = dot(residual, residual)
        for _ in 0..<max(2 * b.count, 50) {
            if residualSquared.squareRoot() <= tolerance { break }
            let product = multiply(direction)
            let curvature = dot(direction, product)
            guard curvature > 0 else { break }
            let step = residualSquared / curvature
            for i in x.indices {
                x[i] += step * direction[i]
                residual[i] -= step * product[i]
            }
            let next = dot(residual, residual)
            for i in direction.indices { direction[i] = residual[i] + next / residualSquared * direction[i] }
            residualSquared = next
        }
        return x.allSatisfy({ $0 == 0 }) ? b : x
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    private func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
}
