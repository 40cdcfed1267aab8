import Foundation

/// The text of one rule file and the name errors and outcomes use for it.
public struct RuleSource: Sendable, Equatable {
    /// The file name (`10_internal.lua`) unless the rule sets `name`; used in outcomes.
    public var fileName: String
    /// Where it came from, for messages (`rules/10_internal.lua`); the file name for sources
    /// given as strings.
    public var path: String
    public var source: String

    public init(fileName: String, source: String, path: String? = nil) {
        self.fileName = fileName
        self.source = source
        self.path = path ?? fileName
    }

    /// Rule files for `--rules PATH` arguments, in order: a file is itself; a directory means its
    /// `*.lua` files (not `*_test.lua`, not subfolders) in file-name order.
    /// - throws: `EngineError.ruleFile` for a path that does not exist or cannot be read.
    public static func load(paths: [String]) throws(EngineError) -> [RuleSource] {
        var sources: [RuleSource] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .ruleFile(path: path, message: "no such file or directory")
            }
            if isDirectory.boolValue {
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path)
                } catch {
                    throw .ruleFile(path: path, message: "cannot list the directory")
                }
                let ruleNames = names.filter { isRuleFileName($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                for name in ruleNames {
                    let filePath = (path as NSString).appendingPathComponent(name)
                    var isSubdirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: filePath, isDirectory: &isSubdirectory), isSubdirectory.boolValue {
                        continue
                    }
                    sources.append(try read(filePath))
                }
            } else {
                sources.append(try read(path))
            }
        }
        return sources
    }

    /// `*.lua` but not `*_test.lua`.
    public static func isRuleFileName(_ name: String) -> Bool {
        name.hasSuffix(".lua") && !name.hasSuffix("_test.lua") && !name.hasPrefix(".")
    }

    static func read(_ path: String) throws(EngineError) -> RuleSource {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .ruleFile(path: path, message: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        return RuleSource(fileName: (path as NSString).lastPathComponent, source: text, path: path)
    }
}
