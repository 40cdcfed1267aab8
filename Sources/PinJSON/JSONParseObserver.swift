/// Sees a document's structure while `JSONParser` parses it, in document order, so a caller can
/// build another form of it (the Lua bridge's tape, say) in the same pass instead of walking the
/// parsed value again.
///
/// Calls arrive as: `beginContainer`, then per member `key` (objects only) and the member's
/// value, then `endContainer` with the finished value; scalars arrive as `scalar` or `string`.
/// Byte buffers are only valid during the call. When parsing fails, what was observed is
/// incomplete and should be dropped.
public protocol JSONParseObserver: AnyObject {
    func beginContainer(isObject: Bool)
    /// An object key's UTF-8 bytes, escapes resolved.
    func key(_ bytes: UnsafeRawBufferPointer)
    /// A string value's UTF-8 bytes, escapes resolved.
    func string(_ bytes: UnsafeRawBufferPointer)
    /// `null`, a boolean or a number.
    func scalar(_ value: JSONValue)
    func endContainer(_ value: JSONValue, count: Int)
    /// The object being parsed repeated a key: the later value replaced the earlier one in the
    /// parsed value, so the members observed no longer match it.
    func duplicateKey()
}
