import CBLAS

#if canImport(Glibc)
import Glibc
#endif

/// The one place where the project calls OpenBLAS and LAPACK.
///
/// Everything else works on ``Matrix`` and plain arrays. Debian's `blasint` is `Int32`,
/// so sizes are converted explicitly here and nowhere else.
public enum BLAS {
    /// OpenBLAS's worker threads spin and yield on small matrices, which are most of what models
    /// here multiply: a Satellite cross-validation took 1.3–1.6 times as long on two threads as on
    /// one, at three times the CPU. So one thread is the default unless `OPENBLAS_NUM_THREADS` asks
    /// otherwise; parallelism comes from serving requests and folds concurrently instead.
    private static let threadDefault: Void = {
        if getenv("OPENBLAS_NUM_THREADS") == nil { openblas_set_num_threads(1) }
    }()

    /// `C ← alpha · op(A) · op(B) + beta · C` on row-major matrices.
    public static func gemm(
        _ a: Matrix, transposeA: Bool = false,
        _ b: Matrix, transposeB: Bool = false,
        alpha: Double = 1, beta: Double = 0, into c: inout Matrix
    ) {
        _ = threadDefault
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        precondition((transposeB ? b.columns : b.rows) == k, "gemm: inner dimensions differ")
        precondition(c.rows == m && c.columns == n, "gemm: output is \(c.rows)×\(c.columns), expected \(m)×\(n)")
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in c.storage.indices { c.storage[i] *= beta }
            return
        }
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a.storage, Int32(max(a.columns, 1)),
            b.storage, Int32(max(b.columns, 1)), beta, &c.storage, Int32(max(c.columns, 1)))
    }

    /// `C ← A · B + beta · C` for row-major elements at pointers: `A` is `rows × inner`, `B` is
    /// `inner × columns`, `C` is `rows × columns`. For a block of a larger matrix's rows, used in
    /// place rather than copied out.
    public static func gemm(rows: Int, inner: Int, columns: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                            beta: Double, into c: UnsafeMutablePointer<Double>) {
        _ = threadDefault
        guard rows > 0, columns > 0 else { return }
        guard inner > 0 else {
            for index in 0..<rows * columns { c[index] *= beta }
            return
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(inner),
                    1, a, Int32(inner), b, Int32(columns), beta, c, Int32(columns))
    }

    /// `op(A) · op(B)` as a new matrix.
    public static func product(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        var c = Matrix(rows: transposeA ? a.columns : a.rows, columns: transposeB ? b.rows : b.columns)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// Single-precision GEMM on raw row-major buffers (for the machine-ceiling benchmark).
    public static func sgemm(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: inout [Float]) {
        _ = threadDefault
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
    }

    /// `y ← alpha · op(A) · x + beta · y`.
    public static func gemv(
        _ a: Matrix, transpose: Bool = false, _ x: [Double],
        alpha: Double = 1, beta: Double = 0, into y: inout [Double]
    ) {
        _ = threadDefault
        let inputLength = transpose ? a.rows : a.columns
        let outputLength = transpose ? a.columns : a.rows
        precondition(x.count == inputLength && y.count == outputLength, "gemv: dimensions differ")
        guard a.rows > 0, a.columns > 0 else {
            for i in y.indices { y[i] *= beta }
            return
        }
        cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(a.rows), Int32(a.columns),
                    alpha, a.storage, Int32(a.columns), x, 1, beta, &y, 1)
    }

    /// `y ← alpha · op(A) · x + beta · y` for the `rows × columns` row-major elements at `a`:
    /// a block of a larger matrix's rows, used in place rather than copied out.
    public static func gemv(rows: Int, columns: Int, _ a: UnsafePointer<Double>, transpose: Bool = false, _ x: UnsafePointer<Double>,
                            alpha: Double = 1, beta: Double = 0, into y: UnsafeMutablePointer<Double>) {
        _ = threadDefault
        guard rows > 0, columns > 0 else {
            for index in 0..<(transpose ? columns : rows) { y[index] *= beta }
            return
        }
        cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(rows), Int32(columns),
                    alpha, a, Int32(columns), x, 1, beta, y, 1)
    }

    /// `y ← A·x + bias` for a row-major `A` of `rows × columns`, as a new array (see
    /// ``affine(rows:columns:_:_:bias:into:kernel:)``).
    public static func affine(_ a: Matrix, _ x: [Double], bias: Double, kernel: DenseKernel? = DenseKernel.fastest) -> [Double] {
        precondition(x.count == a.columns, "affine: dimensions differ")
        guard a.rows > 0 else { return [] }
        return [Double](unsafeUninitializedCapacity: a.rows) { output, initialized in
            affine(rows: a.rows, columns: a.columns, a.storage, x, bias: bias, into: output.baseAddress!, kernel: kernel)
            initialized = a.rows
        }
    }

    /// `y ← A·x + bias` for the `rows × columns` row-major elements at `a`:
    /// through `testbed_affine_avx2` of `dense.h` when `kernel` is one (AVX-512 reads no faster
    /// there), else through OpenBLAS in blocks of rows, so that adding the bias touches each
    /// output while it is still in cache. `kernel` must be one of ``DenseKernel/supported``.
    public static func affine(rows: Int, columns: Int, _ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, bias: Double,
                              into y: UnsafeMutablePointer<Double>, kernel: DenseKernel? = DenseKernel.fastest) {
        _ = threadDefault
        precondition(kernel.map(DenseKernel.supported.contains) ?? true, "affine: the processor does not support \(kernel!)")
        guard columns > 0 else {
            for index in 0..<rows { y[index] = bias }
            return
        }
        if kernel != nil {
            testbed_affine_avx2(rows, columns, a, x, bias, y)
            return
        }
        let blockRows = 4096
        var start = 0
        while start < rows {
            let count = min(blockRows, rows - start)
            let block = y + start
            cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(count), Int32(columns), 1, a + start * columns, Int32(columns), x, 1, 0, block, 1)
            for index in 0..<count { block[index] += bias }
            start += count
        }
    }

    /// A dense-layer kernel of `Sources/CBLAS/dense.h`, by the instructions it needs.
    public enum DenseKernel: Sendable {
        /// AVX2 and FMA: tiles of 4 rows × 12 units.
        case avx2
        /// AVX-512F: tiles of 4 rows × 24 units, the last tile masked to the layer's width.
        case avx512

        /// The kernels this processor and its operating system support, slowest first.
        public static let supported: [DenseKernel] = {
            var kernels: [DenseKernel] = []
            if testbed_has_avx2_fma() != 0 { kernels.append(.avx2) }
            if testbed_has_avx512() != 0 { kernels.append(.avx512) }
            return kernels
        }()

        /// The fastest supported kernel; `nil` where there is none (layers then go through OpenBLAS).
        public static let fastest = supported.last
    }

    /// A dense layer's forward pass on `rows` row-major rows of `inputs` values: `input · weights +
    /// biases` (`weights` is `inputs × width`), with ReLU when `rectified`, written to `output`
    /// (`rows × width`); or, with `next` (a one-output layer's `width` weights and its bias), that
    /// layer's output for each row (`rows` values), the activations never stored. `kernel` must
    /// be one of ``DenseKernel/supported``.
    public static func dense(_ kernel: DenseKernel, rows: Int, inputs: Int, width: Int, _ input: UnsafePointer<Double>,
                             weights: UnsafePointer<Double>, biases: UnsafePointer<Double>, rectified: Bool,
                             into output: UnsafeMutablePointer<Double>,
                             then next: (weights: UnsafePointer<Double>, bias: Double)? = nil) {
        precondition(DenseKernel.supported.contains(kernel), "dense: the processor does not support \(kernel)")
        switch kernel {
        case .avx2: testbed_dense_avx2(rows, inputs, width, input, weights, biases, rectified ? 1 : 0, next?.weights, next?.bias ?? 0, output)
        case .avx512: testbed_dense_avx512(rows, inputs, width, input, weights, biases, rectified ? 1 : 0, next?.weights, next?.bias ?? 0, output)
        }
    }

    /// The widest matrix whose Gram matrix goes through the kernel: it reads and writes the whole
    /// triangle for every four rows, which stays in the first-level cache up to here, where
    /// OpenBLAS's SYRK blocks for the cache (measured 1.4× and 1.6× as fast as OpenBLAS's generic
    /// kernels at 21 and 60 columns).
    public static let gramKernelColumns = 64

    /// Adds `Aᵀ·A` into the upper triangle of the symmetric matrix `c` (`A.columns` square):
    /// through `testbed_gram_upper_avx2` of `dense.h` when `kernel` is one and `A` has at most
    /// ``gramKernelColumns`` columns, else OpenBLAS's SYRK. `kernel` must be one of
    /// ``DenseKernel/supported``.
    public static func addGramUpper(of a: Matrix, into c: inout Matrix, kernel: DenseKernel? = DenseKernel.fastest) {
        _ = threadDefault
        precondition(c.rows == a.columns && c.columns == a.columns, "syrk: dimensions differ")
        precondition(kernel.map(DenseKernel.supported.contains) ?? true, "syrk: the processor does not support \(kernel!)")
        guard a.rows > 0, a.columns > 0 else { return }
        if kernel != nil, a.columns <= gramKernelColumns {
            testbed_gram_upper_avx2(a.rows, a.columns, a.storage, &c.storage)
            return
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(a.columns), Int32(a.rows), 1,
                    a.storage, Int32(a.columns), 1, &c.storage, Int32(a.columns))
    }

    /// Dot product of two equally long vectors.
    public static func dot(_ x: [Double], _ y: [Double]) -> Double {
        _ = threadDefault
        precondition(x.count == y.count, "dot: lengths differ")
        return cblas_ddot(Int32(x.count), x, 1, y, 1)
    }

    /// Solves `A·X = B` for a symmetric positive definite `A` (n × n) by Cholesky factorisation.
    /// `b` holds the right-hand sides as the columns of an `n × nrhs` matrix.
    public static func solvePositiveDefinite(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        _ = threadDefault
        precondition(a.rows == a.columns && b.rows == a.rows, "solve: dimensions differ")
        let n = Int32(a.rows)
        guard n > 0 else { return b }
        // Row-major symmetric A is its own column-major transpose; the lower triangle in
        // column-major terms is the upper one in row-major terms, both are filled.
        var factor = a.storage
        var info: Int32 = 0
        var lda = n
        var size = n
        var uplo = Int8(UInt8(ascii: "L"))
        dpotrf_(&uplo, &size, &factor, &lda, &info, 1)
        guard info == 0 else {
            throw TestbedError(.numericalFailure,
                               "the system is not positive definite (LAPACK dpotrf info \(info)); add regularisation")
        }
        var rhs = b.transposed().storage  // column-major n × nrhs
        var nrhs = Int32(b.columns)
        var ldb = n
        dpotrs_(&uplo, &size, &nrhs, factor, &lda, &rhs, &ldb, &info, 1)
        guard info == 0 else { throw TestbedError(.numericalFailure, "LAPACK dpotrs failed (info \(info))") }
        return Matrix(rows: b.columns, columns: b.rows, storage: rhs).transposed()
    }

    /// Minimum-norm least-squares solution of `A·x ≈ b` by SVD (LAPACK dgelsd).
    /// Singular values below `rcond · σ_max` count as zero, which makes rank-deficient
    /// designs (collinear columns) well defined.
    public static func leastSquaresMinimumNorm(_ a: Matrix, _ b: [Double], rcond: Double) throws -> (solution: [Double], rank: Int) {
        _ = threadDefault
        precondition(b.count == a.rows, "lstsq: dimensions differ")
        var m = Int32(a.rows), n = Int32(a.columns), nrhs: Int32 = 1
        guard m > 0, n > 0 else { return (Array(repeating: 0, count: a.columns), 0) }
        var columnMajor = a.transposed().storage
        var lda = max(m, 1)
        var ldb = max(m, n)
        var rhs = b + Array(repeating: 0, count: Int(ldb) - b.count)
        var singular = [Double](repeating: 0, count: Int(min(m, n)))
        var rcond = rcond
        var rank: Int32 = 0
        var info: Int32 = 0
        // Workspace query first, as LAPACK recommends.
        var lwork: Int32 = -1
        var workSize = [Double](repeating: 0, count: 1)
        var iworkSize = [Int32](repeating: 0, count: 1)
        dgelsd_(&m, &n, &nrhs, &columnMajor, &lda, &rhs, &ldb, &singular, &rcond, &rank,
                &workSize, &lwork, &iworkSize, &info)
        lwork = Int32(workSize[0])
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: max(Int(iworkSize[0]), 1))
        dgelsd_(&m, &n, &nrhs, &columnMajor, &lda, &rhs, &ldb, &singular, &rcond, &rank,
                &work, &lwork, &iwork, &info)
        guard info == 0 else {
            throw TestbedError(.numericalFailure, "least squares did not converge (LAPACK dgelsd info \(info))")
        }
        return (Array(rhs.prefix(Int(n))), Int(rank))
    }

    /// The thin singular value decomposition `A = U·diag(s)·Vᵀ` by divide and conquer (LAPACK
    /// dgesdd): for an `m × n` matrix, `U` is `m × k` and `Vᵀ` is `k × n` with `k = min(m, n)`, and
    /// the singular values come largest first.
    public static func singularValueDecomposition(_ a: Matrix) throws -> (u: Matrix, singularValues: [Double], vt: Matrix) {
        _ = threadDefault
        let k = min(a.rows, a.columns)
        guard k > 0 else { return (Matrix(rows: a.rows, columns: 0), [], Matrix(rows: 0, columns: a.columns)) }
        // Row-major A is column-major Aᵀ (n × m), and Aᵀ = V·diag(s)·Uᵀ: LAPACK's left vectors of
        // Aᵀ (n × k, column-major) are Vᵀ row-major, its right vectors (k × m) are U row-major.
        var m = Int32(a.columns), n = Int32(a.rows)
        var storage = a.storage
        var lda = m, ldu = m, ldvt = Int32(k)
        var singular = [Double](repeating: 0, count: k)
        var left = [Double](repeating: 0, count: a.columns * k)
        var right = [Double](repeating: 0, count: k * a.rows)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var info: Int32 = 0
        var jobz = Int8(UInt8(ascii: "S"))
        var lwork: Int32 = -1
        var workSize = [Double](repeating: 0, count: 1)
        dgesdd_(&jobz, &m, &n, &storage, &lda, &singular, &left, &ldu, &right, &ldvt, &workSize, &lwork, &iwork, &info, 1)
        lwork = Int32(workSize[0])
        var work = [Double](repeating: 0, count: max(Int(lwork), 1))
        dgesdd_(&jobz, &m, &n, &storage, &lda, &singular, &left, &ldu, &right, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else {
            throw TestbedError(.numericalFailure, "the singular value decomposition did not converge (LAPACK dgesdd info \(info))")
        }
        return (Matrix(rows: a.rows, columns: k, storage: right), singular, Matrix(rows: k, columns: a.columns, storage: left))
    }

    /// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric `n × n` matrix (LAPACK dsyevd,
    /// reading its upper triangle): the eigenvalues in ascending order and `Vᵀ`, whose rows are
    /// the eigenvectors in the same order.
    public static func symmetricEigen(_ a: Matrix) throws -> (values: [Double], vectors: Matrix) {
        _ = threadDefault
        precondition(a.rows == a.columns, "eigen: the matrix is not square")
        var n = Int32(a.rows)
        guard n > 0 else { return ([], Matrix(rows: 0, columns: 0)) }
        // Row-major A is column-major Aᵀ = A; its upper triangle is the column-major lower one.
        // The eigenvectors come back as columns, column-major: row-major, their rows.
        var storage = a.storage
        var lda = n
        var values = [Double](repeating: 0, count: a.rows)
        var jobz = Int8(UInt8(ascii: "V")), uplo = Int8(UInt8(ascii: "L"))
        var info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = [Double](repeating: 0, count: 1)
        var iworkSize = [Int32](repeating: 0, count: 1)
        dsyevd_(&jobz, &uplo, &n, &storage, &lda, &values, &workSize, &lwork, &iworkSize, &liwork, &info, 1, 1)
        lwork = Int32(workSize[0])
        liwork = max(iworkSize[0], 1)
        var work = [Double](repeating: 0, count: max(Int(lwork), 1))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &n, &storage, &lda, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else {
            throw TestbedError(.numericalFailure, "the eigendecomposition did not converge (LAPACK dsyevd info \(info))")
        }
        return (values, Matrix(rows: a.rows, columns: a.rows, storage: storage))
    }

    /// The QR factorisation `A = Q·R` of a tall `m × n` matrix (`m >= n`) by Householder
    /// reflections (LAPACK dgeqrf), returned without forming `Q`: the `n × n` upper-triangular `R`
    /// and the first `n` entries of `Qᵀ·b` (dormqr).
    public static func qrReduce(_ a: Matrix, _ b: [Double]) throws -> (r: Matrix, qtb: [Double]) {
        _ = threadDefault
        precondition(a.rows >= a.columns && b.count == a.rows, "qr: needs at least as many rows as columns and one value per row")
        var m = Int32(a.rows), n = Int32(a.columns), one: Int32 = 1
        guard n > 0 else { return (Matrix(rows: 0, columns: 0), []) }
        var columnMajor = a.transposed().storage
        var lda = m, ldc = m
        var tau = [Double](repeating: 0, count: a.columns)
        var rhs = b
        var info: Int32 = 0
        var lwork: Int32 = -1
        var workSize = [Double](repeating: 0, count: 1)
        dgeqrf_(&m, &n, &columnMajor, &lda, &tau, &workSize, &lwork, &info)
        lwork = Int32(workSize[0])
        var work = [Double](repeating: 0, count: max(Int(lwork), 1))
        dgeqrf_(&m, &n, &columnMajor, &lda, &tau, &work, &lwork, &info)
        guard info == 0 else { throw TestbedError(.numericalFailure, "QR factorisation failed (LAPACK dgeqrf info \(info))") }
        var side = Int8(UInt8(ascii: "L")), trans = Int8(UInt8(ascii: "T"))
        lwork = -1
        dormqr_(&side, &trans, &m, &one, &n, columnMajor, &lda, tau, &rhs, &ldc, &workSize, &lwork, &info, 1, 1)
        lwork = Int32(workSize[0])
        work = [Double](repeating: 0, count: max(Int(lwork), 1))
        dormqr_(&side, &trans, &m, &one, &n, columnMajor, &lda, tau, &rhs, &ldc, &work, &lwork, &info, 1, 1)
        guard info == 0 else { throw TestbedError(.numericalFailure, "applying Q failed (LAPACK dormqr info \(info))") }
        var r = Matrix(rows: a.columns, columns: a.columns)
        for j in 0..<a.columns {
            for i in 0...j { r.storage[i * a.columns + j] = columnMajor[i + j * a.rows] }
        }
        return (r, Array(rhs.prefix(a.columns)))
    }

    /// Sets the number of threads OpenBLAS uses.
    public static func setThreadCount(_ count: Int) {
        _ = threadDefault
        openblas_set_num_threads(Int32(count))
    }

    /// OpenBLAS's description of its build (version, core, thread model).
    public static var configuration: String {
        String(cString: openblas_get_config())
    }
}
