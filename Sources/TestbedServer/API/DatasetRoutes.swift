import Foundation
import Hummingbird
import InferenceCore
import NIOPosix

/// `/api/v1/datasets`: a tenant's uploaded tables and their profiles.
struct DatasetRoutes {
    let services: Services

    struct DatasetView: ResponseEncodable, Decodable {
        var id: String
        var name: String
        var rows: Int
        var columns: Int
        var bytes: Int
        var sha256: String
        var createdAt: Date
        /// Only when one dataset is shown.
        var profile: DatasetProfile?
        enum CodingKeys: String, CodingKey { case id, name, rows, columns, bytes, sha256, profile; case createdAt = "created_at" }

        init(_ record: DatasetRecord, withProfile: Bool) throws {
            (id, name, rows, columns, bytes, sha256, createdAt) = (record.id, record.name, record.rowCount, record.columnCount,
                                                                    record.byteCount, record.sha256, record.createdAt)
            profile = withProfile ? try JSONDecoder().decode(DatasetProfile.self, from: record.profile) : nil
        }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.post("datasets") { request, context -> Created<DatasetView> in
            let tenant = try context.tenant()
            let name = request.query("name") ?? "dataset-\(Int(Date().timeIntervalSince1970))"
            try ResourceName.validate(name, of: "dataset")
            let record = try await upload(request, name: name, tenant: tenant)
            context.logger.info("dataset uploaded", metadata: ["dataset": "\(record.id)", "rows": "\(record.rowCount)", "bytes": "\(record.byteCount)"])
            return Created(body: try DatasetView(record, withProfile: true))
        }
        router.get("datasets") { _, context -> [DatasetView] in
            let tenant = try context.tenant()
            return try await services.store.datasets(of: tenant).map { try DatasetView($0, withProfile: false) }
        }
        router.get("datasets/{id}") { _, context -> DatasetView in
            try DatasetView(try await find(context.parameters.require("id"), tenant: context.tenant()), withProfile: true)
        }
        router.delete("datasets/{id}") { _, context -> HTTPResponse.Status in
            let tenant = try context.tenant()
            let record = try await find(context.parameters.require("id"), tenant: tenant)
            try await services.store.deleteDataset(record.id, of: tenant)
            services.files.remove(services.files.datasetPath(record.fileName))
            return .noContent
        }
    }

    /// The tenant's dataset `id`, or 404 as if no such dataset existed anywhere.
    func find(_ id: String, tenant: String) async throws -> DatasetRecord {
        guard let record = try await services.store.dataset(id, of: tenant) else { throw StoreError.notFound(.dataset(id)) }
        return record
    }

    /// Streams the body to a temporary file, reads and profiles it in a profiling process of its
    /// own (``WorkerLauncher``, watched from a thread pool, not the event loop), and only then
    /// moves it into place and records it: what is acknowledged is complete and readable. A
    /// file that crashes the profiling or needs more memory or time than it may have is
    /// refused with what happened; nothing of it is kept.
    private func upload(_ request: Request, name: String, tenant: String) async throws -> DatasetRecord {
        let limits = services.limits
        let file = try services.files.temporaryFile()
        do {
            for try await chunk in request.body {
                guard file.byteCount + chunk.readableBytes <= limits.maxUploadBytes else {
                    throw APIError.tooLarge("the upload is larger than \(limits.maxUploadBytes) bytes, the most this server accepts (--max-upload-bytes)")
                }
                try file.write(chunk)
            }
            guard file.byteCount > 0 else {
                throw APIError.badRequest("the body is empty; send the CSV file as the request body (curl --data-binary @file.csv)", code: "malformed_csv")
            }
            let workers = WorkerLauncher(settings: services.configuration.workers)
            let profiled: ProfileResult
            do {
                profiled = try await workers.run(.profile, request: ProfileRequest(path: file.path, maxColumns: limits.maxColumns),
                                                 timeLimit: workers.settings.profilingTimeLimit, on: WorkerLauncher.profilingWaiters)
            } catch let failure as WorkerFailure {
                services.logger.warning("profiling process failed", metadata: ["cause": "\(failure.cause)", "stderr": "\(failure.detail)"])
                throw failure.apiError
            }
            let profile = try JSONEncoder().encode(profiled.profile)
            let id = UUID().uuidString.lowercased()
            let record = DatasetRecord(id: id, tenantId: tenant, name: name, fileName: "\(id).csv", byteCount: file.byteCount,
                                       rowCount: profiled.rows, columnCount: profiled.columns, sha256: profiled.sha256,
                                       profile: profile, createdAt: Date())
            try file.commit(to: services.files.datasetPath(record.fileName))
            do {
                try await services.store.addDataset(record)
            } catch {
                // Out of reach, the database may still have committed the record: the file stays.
                if case StoreError.unavailable = error {} else { services.files.remove(services.files.datasetPath(record.fileName)) }
                throw error
            }
            return record
        } catch {
            file.discard()
            throw error
        }
    }
}
