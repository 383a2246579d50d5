package wit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	spore "github.com/spore-run/spore"
)

// records maps each WIT record, by file and name, to the Go type that carries
// it. A record missing here fails the test, so a new one cannot go unchecked.
var records = map[string]reflect.Type{
	"httpserver.wit http-request":     reflect.TypeFor[spore.HTTPRequest](),
	"httpserver.wit http-response":    reflect.TypeFor[spore.HTTPResponse](),
	"httpclient.wit outbound-request": reflect.TypeFor[spore.OutboundRequest](),
	"httpclient.wit http-response":    reflect.TypeFor[spore.HTTPResponse](),
	"keyvalue.wit get-response":       reflect.TypeFor[spore.GetResponse](),
	"keyvalue.wit set-request":        reflect.TypeFor[spore.SetRequest](),
	"keyvalue.wit increment-request":  reflect.TypeFor[spore.IncrementRequest](),
	"messaging.wit message":           reflect.TypeFor[spore.Message](),
	"messaging.wit request-message":   reflect.TypeFor[spore.RequestMessage](),
	"logging.wit log-entry":           reflect.TypeFor[spore.LogEntry](),
}

// signature is the Go shape of an operation: the type of its payload and of
// its response (nil for an empty response).
type signature struct{ param, result reflect.Type }

var (
	tString = reflect.TypeFor[string]()
	tBool   = reflect.TypeFor[bool]()
	tBytes  = reflect.TypeFor[[]byte]()
)

// operations lists every operation of SPEC section 5, by the root package's
// constants, with the payload and response the Go SDK and providers use.
var operations = map[string]signature{
	spore.OpHTTPHandleRequest: {reflect.TypeFor[spore.HTTPRequest](), reflect.TypeFor[spore.HTTPResponse]()},
	spore.OpKVGet:             {tString, reflect.TypeFor[spore.GetResponse]()},
	spore.OpKVSet:             {reflect.TypeFor[spore.SetRequest](), nil},
	spore.OpKVDelete:          {tString, tBool},
	spore.OpKVExists:          {tString, tBool},
	spore.OpKVIncrement:       {reflect.TypeFor[spore.IncrementRequest](), reflect.TypeFor[int64]()},
	spore.OpKVKeys:            {tString, reflect.TypeFor[[]string]()},
	spore.OpMsgPublish:        {reflect.TypeFor[spore.Message](), nil},
	spore.OpMsgRequest:        {reflect.TypeFor[spore.RequestMessage](), reflect.TypeFor[spore.Message]()},
	spore.OpMsgHandleMessage:  {reflect.TypeFor[spore.Message](), tBytes},
	spore.OpHTTPClientRequest: {reflect.TypeFor[spore.OutboundRequest](), reflect.TypeFor[spore.HTTPResponse]()},
	spore.OpLoggingWrite:      {reflect.TypeFor[spore.LogEntry](), nil},
}

// contracts maps each file to the contract id its package must declare.
var contracts = map[string]string{
	"httpserver.wit": spore.ContractHTTPServer,
	"keyvalue.wit":   spore.ContractKeyValue,
	"messaging.wit":  spore.ContractMessaging,
	"httpclient.wit": spore.ContractHTTPClient,
	"logging.wit":    spore.ContractLogging,
}

func TestRecordsMatchGoTypes(t *testing.T) {
	files := parseAll(t)
	seen := map[string]bool{}
	for _, f := range files {
		for _, iface := range f.interfaces {
			for name, fields := range iface.records {
				key := f.name + " " + name
				seen[key] = true
				t.Run(key, func(t *testing.T) {
					goType, ok := records[key]
					if !ok {
						t.Fatalf("record %s has no Go type in the records table", key)
					}
					for _, p := range checkRecord(fields, goType, iface.resolver()) {
						t.Error(p)
					}
				})
			}
		}
	}
	for key := range records {
		if !seen[key] {
			t.Errorf("record %s is not in the WIT files", key)
		}
	}
}

func TestOperationsMatchSpec(t *testing.T) {
	files := parseAll(t)
	seen := map[string]bool{}
	for _, f := range files {
		if want := contracts[f.name]; f.pkg != want {
			t.Errorf("%s declares package %q, want the contract id %q", f.name, f.pkg, want)
		}
		for _, iface := range f.interfaces {
			for _, fn := range iface.funcs {
				op := pascal(iface.name) + "." + pascal(fn.name)
				seen[op] = true
				t.Run(op, func(t *testing.T) {
					want, ok := operations[op]
					if !ok {
						t.Fatalf("%s: %s is not an operation of the root package", f.name, op)
					}
					if len(fn.params) != 1 {
						t.Fatalf("%s takes %d parameters; an operation takes exactly one, its payload", op, len(fn.params))
					}
					res := iface.resolver()
					if got, err := res(fn.params[0]); err != nil || got != want.param {
						t.Errorf("payload %s is Go %v (%v), want %v", fn.params[0], got, err, want.param)
					}
					ok, errType := resultTypes(fn.result)
					if !ok || errType != "string" {
						t.Fatalf("%s returns %q; want result<T, string> or result<_, string>", op, fn.result)
					}
					var got reflect.Type
					var err error
					if okType := resultOK(fn.result); okType != "_" {
						got, err = res(okType)
					}
					if err != nil || got != want.result {
						t.Errorf("response %q is Go %v (%v), want %v", fn.result, got, err, want.result)
					}
				})
			}
		}
	}
	for op := range operations {
		if !seen[op] {
			t.Errorf("operation %s is not in the WIT files", op)
		}
	}
}

// TestCheckerCatchesDrift makes sure the check above can fail.
func TestCheckerCatchesDrift(t *testing.T) {
	type drifted struct {
		Subject string `msgpack:"subject"`
		ReplyTo int    `msgpack:"reply_to"`
		Extra   bool   `msgpack:"extra"`
		Skipped string `msgpack:"-"`
	}
	fields := []field{{"subject", "string"}, {"reply-to", "string"}, {"body", "list<u8>"}}
	problems := checkRecord(fields, reflect.TypeFor[drifted](), (&iface{}).resolver())
	want := []string{
		"Go field Extra (msgpack extra) is missing from the record",
		"field body (msgpack body) has no Go field",
		"field reply-to is string (Go string), Go field ReplyTo is int",
	}
	sort.Strings(problems)
	if !reflect.DeepEqual(problems, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// checkRecord compares a WIT record with a Go struct: the same msgpack names
// (WIT kebab-case is msgpack snake_case) with the same types.
func checkRecord(fields []field, goType reflect.Type, resolve func(string) (reflect.Type, error)) []string {
	var problems []string
	goFields := map[string]reflect.StructField{}
	for i := range goType.NumField() {
		sf := goType.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("msgpack"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		goFields[name] = sf
	}
	inWIT := map[string]bool{}
	for _, f := range fields {
		mp := strings.ReplaceAll(f.name, "-", "_")
		inWIT[mp] = true
		sf, ok := goFields[mp]
		if !ok {
			problems = append(problems, fmt.Sprintf("field %s (msgpack %s) has no Go field", f.name, mp))
			continue
		}
		want, err := resolve(f.typ)
		if err != nil {
			problems = append(problems, fmt.Sprintf("field %s: %v", f.name, err))
			continue
		}
		if sf.Type != want {
			problems = append(problems, fmt.Sprintf("field %s is %s (Go %v), Go field %s is %v", f.name, f.typ, want, sf.Name, sf.Type))
		}
	}
	for name, sf := range goFields {
		if !inWIT[name] {
			problems = append(problems, fmt.Sprintf("Go field %s (msgpack %s) is missing from the record", sf.Name, name))
		}
	}
	return problems
}

// The WIT subset the contracts use: one package per file, interfaces holding
// records, enums, type aliases and functions.
type (
	witFile struct {
		name, pkg  string
		interfaces []*iface
	}
	iface struct {
		file, name string
		records    map[string][]field
		enums      map[string]bool
		aliases    map[string]string
		funcs      []function
	}
	field    struct{ name, typ string }
	function struct {
		name, result string
		params       []string // types
	}
)

var (
	reComment   = regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
	rePackage   = regexp.MustCompile(`^\s*package\s+([a-z0-9:-]+)(?:@[^;]+)?;`)
	reInterface = regexp.MustCompile(`interface\s+([a-z][a-z0-9-]*)\s*\{`)
	reRecord    = regexp.MustCompile(`record\s+([a-z][a-z0-9-]*)\s*\{([^}]*)\}`)
	reEnum      = regexp.MustCompile(`enum\s+([a-z][a-z0-9-]*)\s*\{([^}]*)\}`)
	reAlias     = regexp.MustCompile(`type\s+([a-z][a-z0-9-]*)\s*=\s*([^;]+);`)
	reFunc      = regexp.MustCompile(`([a-z][a-z0-9-]*)\s*:\s*func\s*\(([^)]*)\)\s*(?:->\s*([^;]+))?;`)
)

func parseAll(t *testing.T) []witFile {
	t.Helper()
	paths, err := filepath.Glob("*.wit")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no WIT files: %v", err)
	}
	var files []witFile
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parse(p, string(src))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for name := range contracts {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("contract file %s: %v", name, err)
		}
	}
	return files
}

func parse(name, src string) (witFile, error) {
	src = reComment.ReplaceAllString(src, "")
	f := witFile{name: name}
	m := rePackage.FindStringSubmatch(src)
	if m == nil {
		return f, fmt.Errorf("%s: no package declaration", name)
	}
	f.pkg = m[1]
	for _, loc := range reInterface.FindAllStringSubmatchIndex(src, -1) {
		body, err := block(src, loc[1]-1)
		if err != nil {
			return f, fmt.Errorf("%s: interface %s: %w", name, src[loc[2]:loc[3]], err)
		}
		in := &iface{file: name, name: src[loc[2]:loc[3]], records: map[string][]field{}, enums: map[string]bool{}, aliases: map[string]string{}}
		for _, r := range reRecord.FindAllStringSubmatch(body, -1) {
			for _, item := range splitTop(r[2]) {
				n, typ, ok := strings.Cut(item, ":")
				if !ok {
					return f, fmt.Errorf("%s: record %s: bad field %q", name, r[1], item)
				}
				in.records[r[1]] = append(in.records[r[1]], field{strings.TrimSpace(n), strings.TrimSpace(typ)})
			}
		}
		for _, e := range reEnum.FindAllStringSubmatch(body, -1) {
			in.enums[e[1]] = true
		}
		for _, a := range reAlias.FindAllStringSubmatch(body, -1) {
			in.aliases[a[1]] = strings.TrimSpace(a[2])
		}
		for _, fn := range reFunc.FindAllStringSubmatch(body, -1) {
			g := function{name: fn[1], result: strings.TrimSpace(fn[3])}
			for _, p := range splitTop(fn[2]) {
				_, typ, ok := strings.Cut(p, ":")
				if !ok {
					return f, fmt.Errorf("%s: func %s: bad parameter %q", name, fn[1], p)
				}
				g.params = append(g.params, strings.TrimSpace(typ))
			}
			in.funcs = append(in.funcs, g)
		}
		f.interfaces = append(f.interfaces, in)
	}
	return f, nil
}

// block returns the text between the brace at open and its match.
func block(src string, open int) (string, error) {
	depth := 0
	for i := open; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return src[open+1 : i], nil
			}
		}
	}
	return "", fmt.Errorf("unbalanced braces")
}

// splitTop splits s at commas outside angle brackets, dropping empty items
// (WIT allows a trailing comma).
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '<':
				depth++
				continue
			case '>':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if item := strings.TrimSpace(s[start:i]); item != "" {
			out = append(out, item)
		}
		start = i + 1
	}
	return out
}

// resolver returns the function that gives the Go type carrying a WIT type,
// following README.md's MessagePack mapping.
func (in *iface) resolver() func(string) (reflect.Type, error) {
	var resolve func(string) (reflect.Type, error)
	resolve = func(typ string) (reflect.Type, error) {
		typ = strings.TrimSpace(typ)
		if t, ok := primitives[typ]; ok {
			return t, nil
		}
		if inner, ok := generic(typ, "list"); ok {
			args := splitTop(inner)
			if len(args) == 1 {
				if tuple, ok := generic(args[0], "tuple"); ok {
					kv := splitTop(tuple)
					if len(kv) != 2 || kv[0] != "string" {
						return nil, fmt.Errorf("%s: only list<tuple<string, V>> (a map) is supported", typ)
					}
					v, err := resolve(kv[1])
					if err != nil {
						return nil, err
					}
					return reflect.MapOf(tString, v), nil
				}
			}
			elem, err := resolve(inner)
			if err != nil {
				return nil, err
			}
			return reflect.SliceOf(elem), nil
		}
		if inner, ok := generic(typ, "option"); ok {
			elem, err := resolve(inner)
			if err != nil {
				return nil, err
			}
			return reflect.PointerTo(elem), nil
		}
		if in.enums[typ] {
			return tString, nil
		}
		if a, ok := in.aliases[typ]; ok {
			return resolve(a)
		}
		if _, ok := in.records[typ]; ok {
			if t, ok := records[in.file+" "+typ]; ok {
				return t, nil
			}
			return nil, fmt.Errorf("record %s has no Go type", typ)
		}
		return nil, fmt.Errorf("unknown WIT type %q", typ)
	}
	return resolve
}

var primitives = map[string]reflect.Type{
	"bool":   tBool,
	"string": tString,
	"u8":     reflect.TypeFor[uint8](),
	"u16":    reflect.TypeFor[uint16](),
	"u32":    reflect.TypeFor[uint32](),
	"u64":    reflect.TypeFor[uint64](),
	"s8":     reflect.TypeFor[int8](),
	"s16":    reflect.TypeFor[int16](),
	"s32":    reflect.TypeFor[int32](),
	"s64":    reflect.TypeFor[int64](),
	"f32":    reflect.TypeFor[float32](),
	"f64":    reflect.TypeFor[float64](),
}

func init() {
	primitives["list<u8>"] = tBytes
}

// generic returns the argument text of name<...>.
func generic(typ, name string) (string, bool) {
	if !strings.HasPrefix(typ, name+"<") || !strings.HasSuffix(typ, ">") {
		return "", false
	}
	return strings.TrimSpace(typ[len(name)+1 : len(typ)-1]), true
}

// resultTypes reports whether typ is a result and returns its error type.
func resultTypes(typ string) (bool, string) {
	inner, ok := generic(typ, "result")
	if !ok {
		return false, ""
	}
	args := splitTop(inner)
	if len(args) != 2 {
		return false, ""
	}
	return true, args[1]
}

// resultOK returns the ok type of a result ("_" for none).
func resultOK(typ string) string {
	inner, _ := generic(typ, "result")
	return splitTop(inner)[0]
}

// pascal turns a kebab-case WIT name into the PascalCase of operation names:
// http-server -> HttpServer, handle-request -> HandleRequest.
func pascal(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
