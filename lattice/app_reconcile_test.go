package lattice_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

func TestSplitByWeight(t *testing.T) {
	cases := []struct {
		n       int
		weights []int
		want    []int
	}{
		{4, []int{75, 25}, []int{3, 1}},
		{100, []int{1, 1, 1}, []int{34, 33, 33}},
		{5, []int{50, 50}, []int{3, 2}},
		{3, []int{0, 100}, []int{0, 3}},
		{7, []int{1, 2, 4}, []int{1, 2, 4}},
		{10, []int{33, 33, 33}, []int{4, 3, 3}},
		{1, []int{25, 75}, []int{0, 1}},
		{2, []int{0, 0}, []int{0, 0}},
		{0, []int{1}, []int{0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.n, c.weights), func(t *testing.T) {
			var spreads []lattice.Spread
			for _, w := range c.weights {
				spreads = append(spreads, lattice.Spread{Weight: w})
			}
			got := lattice.SplitByWeight(c.n, spreads)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// The lattice a case observes, built up with these helpers.
type obsHost lattice.HostInfo

func infos(hosts []obsHost) []lattice.HostInfo {
	out := make([]lattice.HostInfo, len(hosts))
	for i, h := range hosts {
		out[i] = lattice.HostInfo(h)
	}
	return out
}

func host(id string, labels ...string) obsHost {
	l := map[string]string{}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		l[k] = v
	}
	return obsHost{ID: id, Labels: l}
}

// withActor adds an actor; app "" means one started by hand.
func (h obsHost) withActor(app, name, id, digest string, n int) obsHost {
	ai := lattice.ActorInfo{ID: id, Ref: digest, HostID: h.ID, Instances: n}
	if app != "" {
		ai.Annotations = map[string]string{lattice.AnnotationApp: app, lattice.AnnotationAppActor: name}
	}
	h.Actors = append(append([]lattice.ActorInfo(nil), h.Actors...), ai)
	return h
}

func (h obsHost) withProvider(app, name string) obsHost {
	pi := lattice.ProviderInfo{Name: name, HostID: h.ID}
	if app != "" {
		pi.Annotations = map[string]string{lattice.AnnotationApp: app, lattice.AnnotationAppProvider: name}
	}
	h.Providers = append(append([]lattice.ProviderInfo(nil), h.Providers...), pi)
	return h
}

// cmdString renders a command compactly for the tables.
func cmdString(c lattice.Command) string {
	switch c.Op {
	case lattice.CmdStartActor:
		return fmt.Sprintf("start %s %s@%s on %s x%d", c.App, c.Actor, c.Ref, c.Host, c.Instances)
	case lattice.CmdScaleActor:
		return fmt.Sprintf("scale %s %s on %s %d->%d", c.App, c.Actor, c.Host, c.From, c.Instances)
	case lattice.CmdStopActor:
		return fmt.Sprintf("stop %s %s %s on %s", c.App, c.Actor, c.ActorID, c.Host)
	case lattice.CmdStartProvider:
		return fmt.Sprintf("start provider %s %s on %s", c.App, c.Provider, c.Host)
	case lattice.CmdStopProvider:
		return fmt.Sprintf("stop provider %s %s on %s", c.App, c.Provider, c.Host)
	case lattice.CmdPutLink, lattice.CmdDeleteLink:
		return fmt.Sprintf("%s %s %s %s->%s %v", c.Op, c.App, c.Link.ActorID, c.Link.Contract, c.Link.Provider, c.Link.Values)
	}
	return fmt.Sprintf("%s %s", c.Op, c.App)
}

func shopManifest(version string, instances int) *lattice.Manifest {
	return &lattice.Manifest{
		Name: "shop", Version: version,
		Actors: []lattice.ManifestActor{{
			Name: "api", Ref: "shop-api:1", Instances: instances,
			Spread: []lattice.Spread{
				{Name: "edge", Weight: 75, Requirements: map[string]string{"zone": "edge"}},
				{Name: "cloud", Weight: 25, Requirements: map[string]string{"zone": "cloud"}},
			},
			Links: []lattice.ManifestLink{
				{Contract: "spore:keyvalue", Provider: "keyvalue", Values: map[string]string{"bucket": "shop"}},
			},
		}},
		Providers: []lattice.ManifestProvider{
			{Name: "httpserver", Requirements: map[string]string{"zone": "edge"}},
			{Name: "keyvalue", Requirements: map[string]string{"zone": "cloud"}},
		},
	}
}

var (
	refV1  = map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "d1", ActorID: "MAPI"}}
	kvLink = spore.Link{ActorID: "MAPI", Contract: "spore:keyvalue", LinkName: "default", Provider: "keyvalue", Values: map[string]string{"bucket": "shop"}}
)

// shopRunning is the SPEC example app converged on e1, e2 (edge) and c1
// (cloud), with extra hosts appended.
func shopRunning(e1, e2, c1 int) []obsHost {
	hosts := []obsHost{
		host("e1", "zone=edge").withProvider("shop", "httpserver"),
		host("e2", "zone=edge").withProvider("shop", "httpserver"),
		host("c1", "zone=cloud").withProvider("shop", "keyvalue"),
	}
	for i, n := range []int{e1, e2, c1} {
		if n > 0 {
			hosts[i] = hosts[i].withActor("shop", "api", "MAPI", "d1", n)
		}
	}
	return hosts
}

func TestReconcile(t *testing.T) {
	shop := func(m *lattice.Manifest, refs map[string]lattice.ResolvedRef, owned ...spore.Link) []lattice.AppInput {
		return []lattice.AppInput{{Name: "shop", Manifest: m, Refs: refs, Links: owned}}
	}
	cases := []struct {
		name     string
		apps     []lattice.AppInput
		hosts    []obsHost
		links    []spore.Link
		want     []string // commands, in apply order
		state    string
		problems []string
	}{
		{
			name:  "fresh deploy spreads 3 edge, 1 cloud and starts providers where they belong",
			apps:  shop(shopManifest("v1", 4), refV1),
			hosts: []obsHost{host("e1", "zone=edge"), host("e2", "zone=edge"), host("c1", "zone=cloud")},
			want: []string{
				"put_link shop MAPI spore:keyvalue->keyvalue map[bucket:shop]",
				"start provider shop httpserver on e1",
				"start provider shop httpserver on e2",
				"start provider shop keyvalue on c1",
				"start shop api@d1 on c1 x1",
				"start shop api@d1 on e1 x2",
				"start shop api@d1 on e2 x1",
			},
			state: lattice.AppDeploying,
		},
		{
			name:  "converged: nothing to do",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{kvLink},
			want:  nil,
			state: lattice.AppDeployed,
		},
		{
			name:  "an edge host died: its share moves to the other edge host",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: []obsHost{shopRunning(2, 1, 1)[0], shopRunning(2, 1, 1)[2]},
			links: []spore.Link{kvLink},
			want:  []string{"scale shop api on e1 2->3"},
			state: lattice.AppDeploying,
		},
		{
			name:  "it came back: the spread is restored, capacity first",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: []obsHost{shopRunning(3, 0, 1)[0], host("e2", "zone=edge"), shopRunning(3, 0, 1)[2]},
			links: []spore.Link{kvLink},
			want: []string{
				"start provider shop httpserver on e2",
				"start shop api@d1 on e2 x1",
				"scale shop api on e1 3->2",
			},
			state: lattice.AppDeploying,
		},
		{
			name:  "the host running more keeps the odd instance",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: shopRunning(1, 2, 1),
			links: []spore.Link{kvLink},
			want:  nil,
			state: lattice.AppDeployed,
		},
		{
			name:  "scale up the manifest",
			apps:  shop(shopManifest("v2", 8), refV1, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{kvLink},
			want:  []string{"scale shop api on c1 1->2", "scale shop api on e1 2->3", "scale shop api on e2 1->3"},
			state: lattice.AppDeploying,
		},
		{
			name:  "no edge host: the edge share and provider wait, with the reason",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: []obsHost{shopRunning(0, 0, 1)[2]},
			links: []spore.Link{kvLink},
			want:  nil,
			state: lattice.AppDeploying,
			problems: []string{
				"actor api: spread edge: no host satisfies zone=edge",
				"provider httpserver: no host satisfies zone=edge",
			},
		},
		{
			name:  "a new revision of the same actor replaces it one host at a time",
			apps:  shop(shopManifest("v2", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "d2", ActorID: "MAPI"}}, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{kvLink},
			want:  []string{"stop shop api MAPI on c1"},
			state: lattice.AppDeploying,
		},
		{
			name:  "a rollback to an older revision replaces one host at a time",
			apps:  shop(shopManifest("v3", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "d0", ActorID: "MAPI"}}, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{kvLink},
			want:  []string{"stop shop api MAPI on c1"},
			state: lattice.AppDeploying,
		},
		{
			name: "the replaced host starts the older revision before the next host stops",
			apps: shop(shopManifest("v3", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "d0", ActorID: "MAPI"}}, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 0)[0], shopRunning(2, 1, 0)[1], shopRunning(2, 1, 0)[2],
			},
			links: []spore.Link{kvLink},
			want:  []string{"start shop api@d0 on c1 x1"},
			state: lattice.AppDeploying,
		},
		{
			name: "then the next",
			apps: shop(shopManifest("v3", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "d0", ActorID: "MAPI"}}, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 0)[0], shopRunning(2, 1, 0)[1], shopRunning(2, 1, 0)[2].withActor("shop", "api", "MAPI", "d0", 1),
			},
			links: []spore.Link{kvLink},
			want:  []string{"stop shop api MAPI on e1"},
			state: lattice.AppDeploying,
		},
		{
			name: "a new actor: start it, keep the old one and its link",
			apps: shop(shopManifest("v2", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "n1", ActorID: "MNEW"}}, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 1)[0].withActor("shop", "api", "MNEW", "n1", 2),
				shopRunning(2, 1, 1)[1],
				shopRunning(2, 1, 1)[2],
			},
			links: []spore.Link{kvLink},
			want: []string{
				"put_link shop MNEW spore:keyvalue->keyvalue map[bucket:shop]",
				"start shop api@n1 on c1 x1",
				"start shop api@n1 on e2 x1",
			},
			state: lattice.AppDeploying,
		},
		{
			name: "the new actor runs everywhere: stop the old one; its link goes once it is gone",
			apps: shop(shopManifest("v2", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Digest: "n1", ActorID: "MNEW"}}, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 1)[0].withActor("shop", "api", "MNEW", "n1", 2),
				shopRunning(2, 1, 1)[1].withActor("shop", "api", "MNEW", "n1", 1),
				shopRunning(2, 1, 1)[2].withActor("shop", "api", "MNEW", "n1", 1),
			},
			links: []spore.Link{kvLink, {ActorID: "MNEW", Contract: "spore:keyvalue", LinkName: "default", Provider: "keyvalue", Values: map[string]string{"bucket": "shop"}}},
			want: []string{
				"stop shop api MAPI on c1",
				"stop shop api MAPI on e1",
				"stop shop api MAPI on e2",
			},
			state: lattice.AppDeploying,
		},
		{
			name:  "an unresolved ref leaves what runs alone",
			apps:  shop(shopManifest("v2", 4), map[string]lattice.ResolvedRef{"shop-api:1": {Err: `no artifact "shop-api:1"`}}, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{kvLink},
			want:  nil,
			state: lattice.AppDeploying,
			problems: []string{
				`actor api: ref shop-api:1: no artifact "shop-api:1"`,
			},
		},
		{
			name: "a host running the actor outside the app is not used",
			apps: shop(&lattice.Manifest{Name: "shop", Version: "v1", Actors: []lattice.ManifestActor{{Name: "api", Ref: "shop-api:1", Instances: 2}}}, refV1),
			hosts: []obsHost{
				host("a").withActor("", "", "MAPI", "d1", 5),
				host("b"),
			},
			want:  []string{"start shop api@d1 on b x2"},
			state: lattice.AppDeploying,
		},
		{
			name:  "a changed link value is put again",
			apps:  shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: shopRunning(2, 1, 1),
			links: []spore.Link{{ActorID: "MAPI", Contract: "spore:keyvalue", LinkName: "default", Provider: "keyvalue", Values: map[string]string{"bucket": "other"}}},
			want:  []string{"put_link shop MAPI spore:keyvalue->keyvalue map[bucket:shop]"},
			state: lattice.AppDeploying,
		},
		{
			name: "a provider whose host lost its label stops; one started by hand stays",
			apps: shop(shopManifest("v1", 4), refV1, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 1)[0],
				shopRunning(2, 1, 1)[1],
				shopRunning(2, 1, 1)[2],
				host("x", "zone=lab").withProvider("shop", "httpserver").withProvider("", "keyvalue"),
			},
			links: []spore.Link{kvLink},
			want:  []string{"stop provider shop httpserver on x"},
			state: lattice.AppDeployed,
		},
		{
			name: "undeploy stops what the app made and nothing else",
			apps: shop(nil, nil, kvLink),
			hosts: []obsHost{
				shopRunning(2, 1, 1)[0].withActor("", "", "MOTHER", "o", 1).withProvider("", "keyvalue"),
				shopRunning(2, 1, 1)[1].withActor("other", "api", "MAPI2", "o2", 1),
				shopRunning(2, 1, 1)[2],
			},
			links: []spore.Link{kvLink},
			want: []string{
				"stop shop api MAPI on c1",
				"stop provider shop keyvalue on c1",
				"stop shop api MAPI on e1",
				"stop provider shop httpserver on e1",
				"stop shop api MAPI on e2",
				"stop provider shop httpserver on e2",
				"delete_link shop MAPI spore:keyvalue->keyvalue map[bucket:shop]",
			},
			state: lattice.AppUndeploying,
		},
		{
			name:  "undeployed and nothing left: forget the app",
			apps:  shop(nil, nil),
			hosts: []obsHost{host("e1").withActor("", "", "MAPI", "d1", 1)},
			want:  []string{"forget_app shop"},
			state: lattice.AppUndeploying,
		},
		{
			name: "100 instances over three hosts",
			apps: []lattice.AppInput{{Name: "big", Refs: refV1, Manifest: &lattice.Manifest{Name: "big", Version: "1",
				Actors: []lattice.ManifestActor{{Name: "api", Ref: "shop-api:1", Instances: 100}}}}},
			hosts: []obsHost{host("h1"), host("h2"), host("h3")},
			want:  []string{"start big api@d1 on h1 x34", "start big api@d1 on h2 x33", "start big api@d1 on h3 x33"},
			state: lattice.AppDeploying,
		},
		{
			name: "overlapping spreads share a host",
			apps: []lattice.AppInput{{Name: "o", Refs: refV1, Manifest: &lattice.Manifest{Name: "o", Version: "1",
				Actors: []lattice.ManifestActor{{Name: "api", Ref: "shop-api:1", Instances: 4, Spread: []lattice.Spread{
					{Name: "any", Weight: 50},
					{Name: "arm", Weight: 50, Requirements: map[string]string{"arch": "arm64"}},
				}}}}}},
			hosts: []obsHost{host("a", "arch=amd64"), host("p", "arch=arm64")},
			want:  []string{"start o api@d1 on a x1", "start o api@d1 on p x3"},
			state: lattice.AppDeploying,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := lattice.Reconcile(c.apps, infos(c.hosts), c.links)
			var got []string
			for _, cmd := range plan.Commands {
				got = append(got, cmdString(cmd))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("commands:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			st := plan.Status[0]
			if st.State != c.state {
				t.Errorf("state %s, want %s (problems %v)", st.State, c.state, st.Problems)
			}
			if strings.Join(st.Problems, "\n") != strings.Join(c.problems, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(st.Problems, "\n  "), strings.Join(c.problems, "\n  "))
			}
		})
	}
}

// Applying a plan to the lattice it came from converges: the next plan is
// empty and the app is deployed.
func TestReconcileConverges(t *testing.T) {
	cases := []struct {
		name  string
		m     *lattice.Manifest
		hosts []obsHost
	}{
		{"shop on three hosts", shopManifest("v1", 4), []obsHost{host("e1", "zone=edge"), host("e2", "zone=edge"), host("c1", "zone=cloud")}},
		{"shop on many", shopManifest("v1", 37), []obsHost{
			host("e1", "zone=edge"), host("e2", "zone=edge"), host("e3", "zone=edge"),
			host("c1", "zone=cloud"), host("c2", "zone=cloud"), host("z", "zone=lab"),
		}},
		{"shop, some already there", shopManifest("v1", 9), shopRunning(7, 0, 4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hosts := c.hosts
			var links []spore.Link
			var owned []spore.Link
			for round := range 4 {
				apps := []lattice.AppInput{{Name: "shop", Manifest: c.m, Refs: refV1, Links: owned}}
				plan := lattice.Reconcile(apps, infos(hosts), links)
				if len(plan.Commands) == 0 {
					if plan.Status[0].State != lattice.AppDeployed {
						t.Fatalf("round %d: no commands but state %s: %v", round, plan.Status[0].State, plan.Status[0].Problems)
					}
					for _, a := range plan.Status[0].Actors {
						if a.Running != a.Desired {
							t.Fatalf("running %d of %d", a.Running, a.Desired)
						}
					}
					return
				}
				hosts, links, owned = applyPlan(hosts, links, owned, plan)
			}
			t.Fatal("no convergence after 4 rounds")
		})
	}
}

// applyPlan does to the observed lattice what a controller would.
func applyPlan(hosts []obsHost, links, owned []spore.Link, plan lattice.Plan) ([]obsHost, []spore.Link, []spore.Link) {
	byID := map[string]int{}
	for i, h := range hosts {
		byID[h.ID] = i
	}
	for _, c := range plan.Commands {
		h := &hosts[byID[c.Host]]
		switch c.Op {
		case lattice.CmdStartActor:
			*h = h.withActor(c.App, c.Actor, c.ActorID, c.Ref, c.Instances)
		case lattice.CmdScaleActor:
			for i := range h.Actors {
				if h.Actors[i].ID == c.ActorID {
					h.Actors[i].Instances = c.Instances
				}
			}
		case lattice.CmdStartProvider:
			*h = h.withProvider(c.App, c.Provider)
		case lattice.CmdPutLink:
			links = append(links, *c.Link)
			owned = append(owned, *c.Link)
		}
	}
	return hosts, links, owned
}
