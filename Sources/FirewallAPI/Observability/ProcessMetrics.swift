#if canImport(Glibc)
import Glibc
#endif

/// The process's own metrics under the names every Prometheus client library uses
/// (`process_cpu_seconds_total`, `process_resident_memory_bytes`, ...), read from `/proc/self`
/// at scrape time: swift-prometheus does not collect them.
enum ProcessMetrics {
    /// The exposition lines; empty where `/proc` cannot be read (not Linux).
    static func render() -> String {
        guard let stat = read("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return "" }
        // The fields after the command name, which may itself hold spaces and parentheses; the
        // first of them is field 3 (state) of proc(5).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var lines: [(String, String, String, Double)] = [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (field(14) + field(15)) / ticks),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23)),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24) * pageSize),
        ]
        if let bootTime = bootTime() {
            lines.append(("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                          bootTime + field(22) / ticks))
        }
        if let open = openDescriptors() {
            lines.append(("process_open_fds", "gauge", "Number of open file descriptors.", Double(open)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            lines.append(("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur)))
        }
        return lines.map { name, type, help, value in
            "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }.joined()
    }

    /// Integers without a fraction, others as Swift prints them (both are valid exposition numbers).
    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// When the machine booted (`btime` of /proc/stat), in seconds since the epoch.
    private static func bootTime() -> Double? {
        guard let stat = read("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingPrefix(" "))
        }
        return nil
    }

    private static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        // Less the descriptor opendir itself holds.
        return max(count - 1, 0)
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            bytes += buffer[0..<count]
            if count < buffer.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
