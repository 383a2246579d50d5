package spore

// The payload types of the built-in contracts. They are encoded with
// MessagePack as maps keyed by the snake_case names in the msgpack tags; wit/
// states the same types in WIT, and a test keeps the two in step.

// HTTPRequest is the payload of HttpServer.HandleRequest.
type HTTPRequest struct {
	Method string              `msgpack:"method" json:"method"`
	Path   string              `msgpack:"path" json:"path"`
	Query  string              `msgpack:"query" json:"query"`
	Header map[string][]string `msgpack:"header" json:"header"`
	Body   []byte              `msgpack:"body" json:"body"`
}

// HTTPResponse answers HttpServer.HandleRequest and HttpClient.Request.
type HTTPResponse struct {
	Status uint16              `msgpack:"status" json:"status"`
	Header map[string][]string `msgpack:"header" json:"header"`
	Body   []byte              `msgpack:"body" json:"body"`
}

// OutboundRequest is the payload of HttpClient.Request.
type OutboundRequest struct {
	Method string              `msgpack:"method" json:"method"`
	URL    string              `msgpack:"url" json:"url"`
	Header map[string][]string `msgpack:"header" json:"header"`
	Body   []byte              `msgpack:"body" json:"body"`
}

// GetResponse answers KeyValue.Get.
type GetResponse struct {
	Value  []byte `msgpack:"value" json:"value"`
	Exists bool   `msgpack:"exists" json:"exists"`
}

// SetRequest is the payload of KeyValue.Set. TTLSeconds 0 means no expiry.
type SetRequest struct {
	Key        string `msgpack:"key" json:"key"`
	Value      []byte `msgpack:"value" json:"value"`
	TTLSeconds uint32 `msgpack:"ttl_seconds" json:"ttl_seconds"`
}

// IncrementRequest is the payload of KeyValue.Increment.
type IncrementRequest struct {
	Key   string `msgpack:"key" json:"key"`
	Delta int64  `msgpack:"delta" json:"delta"`
}

// Message is published by Messaging.Publish, answered by Messaging.Request and
// delivered by Messaging.HandleMessage.
type Message struct {
	Subject string `msgpack:"subject" json:"subject"`
	ReplyTo string `msgpack:"reply_to" json:"reply_to"`
	Body    []byte `msgpack:"body" json:"body"`
}

// RequestMessage is the payload of Messaging.Request.
type RequestMessage struct {
	Subject   string `msgpack:"subject" json:"subject"`
	Body      []byte `msgpack:"body" json:"body"`
	TimeoutMs uint32 `msgpack:"timeout_ms" json:"timeout_ms"`
}

// LogEntry is the payload of Logging.Write. Level is one of debug, info,
// warn, error.
type LogEntry struct {
	Level string `msgpack:"level" json:"level"`
	Text  string `msgpack:"text" json:"text"`
}

// Operation names of the built-in contracts.
const (
	OpHTTPHandleRequest = "HttpServer.HandleRequest"
	OpKVGet             = "KeyValue.Get"
	OpKVSet             = "KeyValue.Set"
	OpKVDelete          = "KeyValue.Delete"
	OpKVExists          = "KeyValue.Exists"
	OpKVIncrement       = "KeyValue.Increment"
	OpKVKeys            = "KeyValue.Keys"
	OpMsgPublish        = "Messaging.Publish"
	OpMsgRequest        = "Messaging.Request"
	OpMsgHandleMessage  = "Messaging.HandleMessage"
	OpHTTPClientRequest = "HttpClient.Request"
	OpLoggingWrite      = "Logging.Write"
)
