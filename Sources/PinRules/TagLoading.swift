public import PinJSON
import PinterestTag

/// How `pinrules init` prints the calls that load the tag.
public enum TagLoadingFormat: String, Sendable, CaseIterable {
    /// `[["load","2612345678901",{"em":"a@b.com"}],["page"]]`
    case json
    /// Pinterest's loader stub followed by `pintrk('load', ...); pintrk('page');`
    case javaScript = "js"
}

extension PinRulesEngine {
    /// The calls that load the tag for a page view, rendered: `load` (with the stored user's
    /// email when enhanced match is on) and `page`. Rules do not apply to them.
    /// - parameter traits: the user traits stored from earlier identify calls, or nil.
    /// - throws: `EngineError.config` when the config has no `tagId`.
    public func tagLoading(traits: JSONValue?, format: TagLoadingFormat) throws(EngineError) -> String {
        do {
            switch format {
            case .json:
                return PintrkRenderer.json(try mapper.initCalls(traits: traits))
            case .javaScript:
                return try mapper.initSnippet(traits: traits)
            }
        } catch {
            throw .config(file: nil, key: error.path, message: error.message)
        }
    }
}
