package lattice

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spore-run/spore"
)

// Manifest is an application as a user declares it (SPEC section 7): which
// actors run, how many instances, spread over which hosts, linked to which
// providers, and where those providers run. docs/apps.md describes it.
type Manifest struct {
	Name      string             `json:"name"`
	Version   string             `json:"version"`
	Actors    []ManifestActor    `json:"actors,omitempty"`
	Providers []ManifestProvider `json:"providers,omitempty"`
}

// ManifestActor is one actor of an application.
type ManifestActor struct {
	// Name names the actor within the app; it need not be the claims name.
	Name string `json:"name"`
	// Ref is an artifact in the lattice (name:version, name or
	// sha256:digest). A local file path is pushed by 'spore app deploy',
	// which stores the artifact's name:version here.
	Ref       string         `json:"ref"`
	Instances int            `json:"instances"`
	Spread    []Spread       `json:"spread,omitempty"`
	Links     []ManifestLink `json:"links,omitempty"`
}

// Spread is a share of an actor's instances, placed on the hosts whose
// labels hold every requirement.
type Spread struct {
	Name         string            `json:"name"`
	Weight       int               `json:"weight"`
	Requirements map[string]string `json:"requirements,omitempty"`
}

// ManifestLink links an actor of the app to a provider.
type ManifestLink struct {
	Contract string            `json:"contract"`
	Provider string            `json:"provider,omitempty"`
	LinkName string            `json:"link_name,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
}

// ManifestProvider is a provider the app runs: one on every host whose
// labels hold every requirement.
type ManifestProvider struct {
	Name         string            `json:"name"`
	Requirements map[string]string `json:"requirements,omitempty"`
}

// DefaultSpreadWeight is the weight of a spread entry that gives none, as in
// wadm.
const DefaultSpreadWeight = 100

// MaxManifestSize bounds the manifests ParseManifest reads.
const MaxManifestSize = 1 << 20

// maxManifestNodes bounds the YAML nodes one parse visits, so aliases cannot
// blow a small document up.
const maxManifestNodes = 100000

// ErrManifest is wrapped by every ManifestErrors, so callers can tell a bad
// manifest from a failure to reach the lattice.
var ErrManifest = errors.New("invalid app manifest")

// ManifestError is one problem in a manifest: where it is and what is wrong.
type ManifestError struct {
	File  string // as given to ParseManifest
	Line  int    // 1-based; 0 when the problem has no place
	Field string // such as actors[0].instances; "" for the whole document
	Msg   string
}

func (e ManifestError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ManifestErrors is every problem ParseManifest found, in document order.
type ManifestErrors []ManifestError

func (es ManifestErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap makes errors.Is(err, ErrManifest) hold.
func (es ManifestErrors) Unwrap() error { return ErrManifest }

// nameRE is what app, actor, spread and provider names may be: they become
// KV keys and annotation values.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

const nameRule = "use 1-63 letters, digits, '-' or '_', starting with a letter or digit"

// ParseManifest reads a YAML manifest and checks it. On any problem it
// returns ManifestErrors holding every problem found, each with its line and
// field; file names the source in those messages.
func ParseManifest(file string, data []byte) (*Manifest, error) {
	p := &manifestParser{file: file}
	if len(data) > MaxManifestSize {
		p.errorf(nil, "", "manifest is %d bytes; the limit is %d", len(data), MaxManifestSize)
		return nil, p.errs
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.errs = append(p.errs, yamlError(file, err))
		return nil, p.errs
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(nil, "", "empty manifest: want name, version and actors (see docs/apps.md)")
		return nil, p.errs
	}
	m := p.manifest(doc.Content[0])
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return m, nil
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// ManifestError with its line.
func yamlError(file string, err error) ManifestError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := ManifestError{File: file, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line, e.Msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return e
}

type manifestParser struct {
	file  string
	errs  ManifestErrors
	nodes int
}

func (p *manifestParser) errorf(n *yaml.Node, field, format string, args ...any) {
	e := ManifestError{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	p.errs = append(p.errs, e)
}

// deref follows an alias and counts the node against the budget; nil means
// stop (the budget is spent).
func (p *manifestParser) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	p.nodes++
	if p.nodes == maxManifestNodes {
		p.errorf(n, "", "manifest too large after expanding aliases")
	}
	if p.nodes >= maxManifestNodes {
		return nil
	}
	return n
}

// fields walks a mapping: each known key's value goes to its handler, and
// unknown or repeated keys are errors. Missing required keys are reported
// at the mapping's line.
type fieldSpec struct {
	key      string
	required bool
	handle   func(v *yaml.Node, field string)
}

func (p *manifestParser) mapping(n *yaml.Node, field string, specs []fieldSpec) {
	if n = p.deref(n); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping, got %s", describeNode(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			return
		}
		key := k.Value
		sub := joinField(field, key)
		if seen[key] {
			p.errorf(k, sub, "repeated key")
			continue
		}
		seen[key] = true
		var spec *fieldSpec
		for j := range specs {
			if specs[j].key == key {
				spec = &specs[j]
			}
		}
		if spec == nil {
			p.errorf(k, sub, "unknown field (want one of %s)", specKeys(specs))
			continue
		}
		if isNull(v) {
			if spec.required {
				p.errorf(k, sub, "required")
			}
			continue
		}
		spec.handle(v, sub)
	}
	for _, s := range specs {
		if s.required && !seen[s.key] {
			p.errorf(n, joinField(field, s.key), "required")
		}
	}
}

func specKeys(specs []fieldSpec) string {
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.key
	}
	return strings.Join(keys, ", ")
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// scalar returns a scalar's text, or reports what else it is.
func (p *manifestParser) scalar(n *yaml.Node, field string) (string, bool) {
	if n = p.deref(n); n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, field, "want a value, got %s", describeNode(n))
		return "", false
	}
	return n.Value, true
}

func (p *manifestParser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if s, ok := p.scalar(n, field); ok {
			*dst = s
		}
	}
}

func (p *manifestParser) integer(dst *int, set *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		s, ok := p.scalar(n, field)
		if !ok {
			return
		}
		v, err := strconv.ParseInt(s, 0, 32)
		if n.Tag != "!!int" || err != nil {
			p.errorf(n, field, "want a whole number, got %q", s)
			return
		}
		*dst = int(v)
		if set != nil {
			*set = true
		}
	}
}

// strMap reads a mapping of scalars, such as requirements or link values.
func (p *manifestParser) strMap(dst *map[string]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n = p.deref(n); n == nil {
			return
		}
		if n.Kind != yaml.MappingNode {
			p.errorf(n, field, "want a mapping of names to values, got %s", describeNode(n))
			return
		}
		m := map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := p.scalar(n.Content[i], field)
			if !ok {
				continue
			}
			sub := joinField(field, k)
			if k == "" {
				p.errorf(n.Content[i], field, "empty key")
				continue
			}
			if _, dup := m[k]; dup {
				p.errorf(n.Content[i], sub, "repeated key")
				continue
			}
			if isNull(n.Content[i+1]) {
				m[k] = ""
				continue
			}
			if v, ok := p.scalar(n.Content[i+1], sub); ok {
				m[k] = v
			}
		}
		*dst = m
	}
}

// list calls item for each element of a sequence.
func (p *manifestParser) list(field string, item func(i int, n *yaml.Node, field string)) func(*yaml.Node, string) {
	return func(n *yaml.Node, _ string) {
		if n = p.deref(n); n == nil {
			return
		}
		if n.Kind != yaml.SequenceNode {
			p.errorf(n, field, "want a list, got %s", describeNode(n))
			return
		}
		for i, c := range n.Content {
			item(i, c, fmt.Sprintf("%s[%d]", field, i))
		}
	}
}

func (p *manifestParser) name(n *yaml.Node, field, value string) {
	if !nameRE.MatchString(value) {
		p.errorf(n, field, "%q: %s", value, nameRule)
	}
}

// line returns the line of a mapping's key, or the mapping's own line.
func keyLine(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}

func (p *manifestParser) manifest(n *yaml.Node) *Manifest {
	m := &Manifest{}
	p.mapping(n, "", []fieldSpec{
		{"name", true, p.str(&m.Name)},
		{"version", true, p.str(&m.Version)},
		{"actors", false, p.list("actors", func(i int, c *yaml.Node, field string) {
			m.Actors = append(m.Actors, p.actor(c, field))
		})},
		{"providers", false, p.list("providers", func(i int, c *yaml.Node, field string) {
			m.Providers = append(m.Providers, p.provider(c, field))
		})},
	})
	if len(p.errs) > 0 && n.Kind != yaml.MappingNode {
		return m
	}
	if m.Name != "" {
		p.name(keyLine(n, "name"), "name", m.Name)
	}
	if strings.TrimSpace(m.Version) == "" && keyLine(n, "version") != n {
		p.errorf(keyLine(n, "version"), "version", "must not be empty")
	}
	if len(m.Actors) == 0 && len(m.Providers) == 0 && len(p.errs) == 0 {
		p.errorf(n, "actors", "an app needs at least one actor or provider")
	}
	p.unique(keyLine(n, "actors"), "actors", len(m.Actors), func(i int) string { return m.Actors[i].Name }, "name")
	p.unique(keyLine(n, "actors"), "actors", len(m.Actors), func(i int) string { return m.Actors[i].Ref }, "ref")
	p.unique(keyLine(n, "providers"), "providers", len(m.Providers), func(i int) string { return m.Providers[i].Name }, "name")
	return m
}

// unique reports list entries whose key repeats an earlier entry's.
func (p *manifestParser) unique(seq *yaml.Node, list string, count int, key func(i int) string, field string) {
	first := map[string]int{}
	for i := range count {
		k := key(i)
		if k == "" {
			continue
		}
		if j, dup := first[k]; dup {
			at := keyLine(nth(seq, i), field)
			extra := ""
			if field == "ref" {
				extra = "; an actor runs once per host, so give each app actor its own module"
			}
			p.errorf(at, fmt.Sprintf("%s[%d].%s", list, i, field), "%q repeats %s[%d]%s", k, list, j, extra)
			continue
		}
		first[k] = i
	}
}

func nth(n *yaml.Node, i int) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return n
	}
	return n.Content[i]
}

func (p *manifestParser) actor(n *yaml.Node, field string) ManifestActor {
	a := ManifestActor{}
	var hasInstances bool
	p.mapping(n, field, []fieldSpec{
		{"name", true, p.str(&a.Name)},
		{"ref", true, p.str(&a.Ref)},
		{"instances", false, p.integer(&a.Instances, &hasInstances)},
		{"spread", false, p.list(field+".spread", func(i int, c *yaml.Node, f string) {
			a.Spread = append(a.Spread, p.spread(c, f))
		})},
		{"links", false, p.list(field+".links", func(i int, c *yaml.Node, f string) {
			a.Links = append(a.Links, p.link(c, f))
		})},
	})
	if a.Name != "" {
		p.name(keyLine(n, "name"), field+".name", a.Name)
	}
	if !hasInstances {
		a.Instances = 1
	} else if a.Instances < 1 {
		p.errorf(keyLine(n, "instances"), field+".instances", "must be >= 1")
	}
	if strings.TrimSpace(a.Ref) == "" && keyLine(n, "ref") != n {
		p.errorf(keyLine(n, "ref"), field+".ref", "must not be empty")
	}
	total := 0
	for _, s := range a.Spread {
		total += s.Weight
	}
	if len(a.Spread) > 0 && total <= 0 {
		p.errorf(keyLine(n, "spread"), field+".spread", "the weights add up to 0; give at least one spread a weight > 0")
	}
	p.unique(keyLine(n, "spread"), field+".spread", len(a.Spread), func(i int) string { return a.Spread[i].Name }, "name")
	p.unique(keyLine(n, "links"), field+".links", len(a.Links), func(i int) string {
		return a.Links[i].Contract + " link name " + spore.LinkName(a.Links[i].LinkName)
	}, "contract")
	return a
}

func (p *manifestParser) spread(n *yaml.Node, field string) Spread {
	s := Spread{}
	var hasWeight bool
	p.mapping(n, field, []fieldSpec{
		{"name", true, p.str(&s.Name)},
		{"weight", false, p.integer(&s.Weight, &hasWeight)},
		{"requirements", false, p.strMap(&s.Requirements)},
	})
	if s.Name != "" {
		p.name(keyLine(n, "name"), field+".name", s.Name)
	}
	if !hasWeight {
		s.Weight = DefaultSpreadWeight
	} else if s.Weight < 0 {
		p.errorf(keyLine(n, "weight"), field+".weight", "must be >= 0")
	}
	return s
}

func (p *manifestParser) link(n *yaml.Node, field string) ManifestLink {
	l := ManifestLink{}
	p.mapping(n, field, []fieldSpec{
		{"contract", true, p.str(&l.Contract)},
		{"provider", false, p.str(&l.Provider)},
		{"link_name", false, p.str(&l.LinkName)},
		{"values", false, p.strMap(&l.Values)},
	})
	if l.Contract != "" && !spore.IsContractID(l.Contract) {
		p.errorf(keyLine(n, "contract"), field+".contract", "%q is not a contract id (such as spore:keyvalue)", l.Contract)
	}
	if l.Provider != "" {
		p.name(keyLine(n, "provider"), field+".provider", l.Provider)
	}
	if l.LinkName != "" {
		p.name(keyLine(n, "link_name"), field+".link_name", l.LinkName)
	}
	return l
}

func (p *manifestParser) provider(n *yaml.Node, field string) ManifestProvider {
	mp := ManifestProvider{}
	p.mapping(n, field, []fieldSpec{
		{"name", true, p.str(&mp.Name)},
		{"requirements", false, p.strMap(&mp.Requirements)},
	})
	if mp.Name != "" {
		p.name(keyLine(n, "name"), field+".name", mp.Name)
	}
	return mp
}

// LinkFor is the link a manifest link makes for the actor with that id.
func (l ManifestLink) LinkFor(actorID string) spore.Link {
	prov := l.Provider
	if prov == "" {
		prov = l.Contract[strings.Index(l.Contract, ":")+1:]
	}
	return spore.Link{ActorID: actorID, Contract: l.Contract, LinkName: spore.LinkName(l.LinkName), Provider: prov, Values: l.Values}
}
