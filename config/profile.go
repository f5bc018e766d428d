package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The fields of a dbt-databricks output that dbtdbx reads. Secret ones
// never appear in an error message, and neither does the engine's error
// about them, which could quote them.
var profileFields = []struct {
	key    string
	secret bool
}{
	{"host", false},
	{"http_path", false},
	{"token", true},
	{"auth_type", false},
	{"client_id", false},
	{"client_secret", true},
	{"oauth_redirect_url", false},
	{"azure_client_id", false},
	{"azure_client_secret", true},
}

// dbtTarget is the output of a dbt profile that dbt itself would use for
// this project, with the fields dbtdbx reads rendered.
type dbtTarget struct {
	projectDir   string
	profilesFile string
	profile      string
	name         string // the target's name
	// origins holds where project_dir, profiles_file, profile and target
	// came from.
	origins map[string]Origin

	// fields holds the rendered fields that are set and not empty, by their
	// profiles.yml key; oauth_scopes is joined with spaces.
	fields map[string]profileValue
	// tokenServed is true when token reads DATABRICKS_TOKEN.
	tokenServed bool
	// line is where the target is named in profiles.yml.
	line int
	// profileVars and targetVars are the variables env_var() read to
	// render the profile's and the target's names (as renderer.shown): a
	// name that is not in profiles.yml is then not quoted.
	profileVars, targetVars []string
}

// profileValue is one rendered field.
type profileValue struct {
	text string
	// vars are the variables env_var() read to render it, as shown (see
	// renderer.shown). A value that read any is not quoted in errors: it
	// may be a secret.
	vars []string
	// line is where it is written in profiles.yml.
	line int
}

// get returns a field's rendered text, "" when unset.
func (p *dbtTarget) get(key string) string {
	if p == nil {
		return ""
	}
	return p.fields[key].text
}

// source returns a field as a candidate value for Resolve.
func (p *dbtTarget) source(key string) source {
	if p.get(key) == "" {
		return source{}
	}
	return source{p.get(key), p.origin(key)}
}

// origin says where a field came from, for status: the profile and target,
// and the variables its Jinja read.
func (p *dbtTarget) origin(key string) Origin {
	o := fmt.Sprintf("%s (%s.%s)", profilesFileName, p.profile, p.name)
	if key == "token" && p.tokenServed {
		return Origin(o + ", served by dbtdbx as " + EnvToken)
	}
	if vars := p.fields[key].vars; len(vars) > 0 {
		o += " via env " + strings.Join(vars, ", ")
	}
	return Origin(o)
}

// fromEnv reports whether the field key was rendered from env_var(): its
// value is then never quoted in a message.
func (p *dbtTarget) fromEnv(key string) bool {
	return p != nil && len(p.fields[key].vars) > 0
}

// envCalls names the variables a field was rendered from, for messages.
func (p *dbtTarget) envCalls(key string) string {
	return envCallList(p.fields[key].vars)
}

// envCallList names variables (as renderer.shown has them) for messages.
func envCallList(vars []string) string {
	var calls []string
	for _, v := range vars {
		if v == computedVar {
			calls = append(calls, "env_var() of "+v)
		} else {
			calls = append(calls, "env_var('"+v+"')")
		}
	}
	return strings.Join(calls, ", ")
}

// envFieldError is about the value of key, rendered from env_var(), that
// is not a valid what. It names the field, the file, the target and the
// variables, and says what is wrong without the value: err's reason if it
// is a valueError, else nothing more.
func (p *dbtTarget) envFieldError(key, what string, err error) error {
	reason := "the value is not shown, as it comes from the environment"
	var ve *valueError
	if errors.As(err, &ve) {
		reason = ve.reason
	}
	return fmt.Errorf("%s of target %s in %s:%d (from %s) is not a valid %s: %s", key, p.name, p.profilesFile, p.fields[key].line, p.envCalls(key), what, reason)
}

// fieldError places err, about the value of key, in profiles.yml.
func (p *dbtTarget) fieldError(key string, err error) error {
	return fmt.Errorf("%s:%d: %s: %s: %w", p.profilesFile, p.fields[key].line, p.where(), key, err)
}

// where names the target in error messages.
func (p *dbtTarget) where() string {
	return fmt.Sprintf("profile %q, target %q", p.profile, p.name)
}

// readDBTTarget finds the dbt project, its profile and target the way dbt
// does, and reads and checks the fields dbtdbx needs. It returns nil and no
// error when there is no dbt project and none was named. Only the selected
// profile's selected target is rendered (and the profile's target: and the
// project's profile:), so a variable that another target reads need not
// be set.
func readDBTTarget(f Flags, env Env) (*dbtTarget, error) {
	dir, origin, err := findProject(f, env)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		// dbt's own flags mean nothing without a project; ignoring them
		// would hand out a token for some other workspace.
		for _, fl := range []struct{ name, value string }{{"profile", f.Profile}, {"target", f.Target}, {"profiles-dir", f.ProfilesDir}} {
			if fl.value != "" {
				return nil, fmt.Errorf("--%s needs a dbt project, and there is no %s in %s or above it: run dbtdbx in the project or pass --project-dir", fl.name, projectFileName, env.Dir)
			}
		}
		return nil, nil
	}
	p := &dbtTarget{projectDir: dir, origins: map[string]Origin{"project_dir": origin}, fields: map[string]profileValue{}}
	r := &renderer{env: env}

	switch {
	case f.Profile != "":
		p.profile, p.origins["profile"] = f.Profile, "flag --profile"
	case env.Get(EnvProfile) != "":
		p.profile, p.origins["profile"] = env.Get(EnvProfile), "env "+EnvProfile
	default:
		if p.profile, err = projectProfile(filepath.Join(dir, projectFileName), r); err != nil {
			return nil, err
		}
		p.profileVars = r.shown
		p.origins["profile"] = projectFileName
	}

	if p.profilesFile, p.origins["profiles_file"], err = findProfiles(f, env, dir); err != nil {
		return nil, err
	}
	pf, err := readYAML(p.profilesFile)
	if err != nil {
		return nil, err
	}
	out, err := p.selectOutput(f, env, pf, r)
	if err != nil {
		return nil, err
	}
	return p, p.readFields(pf, out, r)
}

// projectProfile reads the profile: of dbt_project.yml, rendered.
func projectProfile(path string, r *renderer) (string, error) {
	pf, err := readYAML(path)
	if err != nil {
		return "", err
	}
	if pf.root == nil {
		return "", fmt.Errorf("%s is empty: dbt needs at least name: and profile: in it", path)
	}
	top, err := pf.mapping(pf.root, "the top level of "+projectFileName)
	if err != nil {
		return "", err
	}
	raw, ok, err := scalar(top.get("profile"))
	if err != nil {
		return "", fmt.Errorf("%s:%d: profile: %w", path, top.line["profile"], err)
	}
	if !ok {
		return "", fmt.Errorf("%s names no profile: add profile: <name> to it, or pass --profile or set %s", path, EnvProfile)
	}
	name, err := r.renderQuiet(raw, false)
	if err != nil {
		return "", fmt.Errorf("%s:%d: profile: %w", path, top.line["profile"], err)
	}
	if name == "" {
		return "", fmt.Errorf("%s:%d: profile: renders empty", path, top.line["profile"])
	}
	return name, nil
}

// selectOutput finds the profile and its target in profiles.yml and
// returns the target's (output's) mapping.
func (p *dbtTarget) selectOutput(f Flags, env Env, pf *yamlFile, r *renderer) (*yamlMap, error) {
	if pf.root == nil {
		return nil, fmt.Errorf("%s is empty: it needs the profile %q", pf.path, p.profile)
	}
	top, err := pf.mapping(pf.root, "the top level of "+profilesFileName)
	if err != nil {
		return nil, err
	}
	node, ok := top.value[p.profile]
	if (!ok || p.profile == "config") && len(p.profileVars) > 0 {
		return nil, fmt.Errorf("the profile dbt_project.yml names (from %s) is not in %s; %s", envCallList(p.profileVars), pf.path, has("profiles", profileNames(pf, top)))
	}
	if !ok || p.profile == "config" {
		return nil, fmt.Errorf("profile %q not found in %s; %s (the name is from %s)", p.profile, pf.path, has("profiles", profileNames(pf, top)), p.origins["profile"])
	}
	if isNull(node) {
		return nil, fmt.Errorf("%s:%d: profile %q is empty", pf.path, top.line[p.profile], p.profile)
	}
	prof, err := pf.mapping(node, fmt.Sprintf("profile %q", p.profile))
	if err != nil {
		return nil, err
	}

	switch {
	case f.Target != "":
		p.name, p.origins["target"] = f.Target, "flag --target"
	case env.Get(EnvTarget) != "":
		p.name, p.origins["target"] = env.Get(EnvTarget), "env "+EnvTarget
	default:
		raw, ok, err := scalar(prof.get("target"))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: profile %q: target: %w", pf.path, prof.line["target"], p.profile, err)
		}
		if !ok {
			// dbt's fallback, with a warning of its own.
			p.name, p.origins["target"] = "default", OriginDefault
			break
		}
		if p.name, err = r.renderQuiet(raw, false); err != nil {
			return nil, fmt.Errorf("%s:%d: profile %q: target: %w", pf.path, prof.line["target"], p.profile, err)
		}
		p.origins["target"] = Origin(fmt.Sprintf("%s (%s)", profilesFileName, p.profile))
		p.targetVars = r.shown
		if len(r.shown) > 0 {
			p.origins["target"] += Origin(" via env " + strings.Join(r.shown, ", "))
		}
	}

	outputsNode, ok := prof.value["outputs"]
	if !ok || isNull(outputsNode) {
		return nil, fmt.Errorf("%s:%d: profile %q has no outputs: (dbt reads its targets from there)", pf.path, prof.at, p.profile)
	}
	outputs, err := pf.mapping(outputsNode, fmt.Sprintf("outputs: of profile %q", p.profile))
	if err != nil {
		return nil, err
	}
	node, ok = outputs.value[p.name]
	if !ok && len(p.targetVars) > 0 {
		return nil, fmt.Errorf("the target profile %q names (from %s) is not in its outputs in %s; %s", p.profile, envCallList(p.targetVars), pf.path, has("targets", outputs.keys))
	}
	if !ok {
		return nil, fmt.Errorf("target %q not found in profile %q of %s; %s (the name is from %s)", p.name, p.profile, pf.path, has("targets", outputs.keys), p.origins["target"])
	}
	if isNull(node) {
		return nil, fmt.Errorf("%s:%d: %s is empty", pf.path, outputs.line[p.name], p.where())
	}
	p.line = outputs.line[p.name]
	return pf.mapping(node, p.where())
}

// readFields renders the fields dbtdbx reads and checks them the way
// dbt-databricks validates its credentials.
func (p *dbtTarget) readFields(pf *yamlFile, out *yamlMap, r *renderer) error {
	at := func(key string) string {
		line, ok := out.line[key]
		if !ok {
			return pf.path
		}
		return fmt.Sprintf("%s:%d", pf.path, line)
	}
	read := func(key string, secret bool) error {
		raw, ok, err := scalar(out.get(key))
		if err != nil {
			return fmt.Errorf("%s: %s: %s %w", at(key), p.where(), key, err)
		}
		if !ok {
			return nil
		}
		text, err := r.renderQuiet(raw, secret)
		if err != nil {
			return fmt.Errorf("%s: %s: %s: %w", at(key), p.where(), key, err)
		}
		if key == "token" && r.readVar(EnvToken) {
			p.tokenServed = true
			text = ""
		}
		if text = strings.TrimSpace(text); text != "" {
			p.fields[key] = profileValue{text, r.shown, out.line[key]}
		}
		return nil
	}

	// type first: the other fields mean something else in another adapter.
	if err := read("type", false); err != nil {
		return err
	}
	switch typ := p.get("type"); {
	case typ == "":
		return fmt.Errorf("%s:%d: %s has no type: dbtdbx works with type: databricks", pf.path, p.line, p.where())
	case typ != "databricks" && p.fromEnv("type"):
		return fmt.Errorf("%s: %s has a type other than databricks (from %s): dbtdbx works only with type: databricks (dbt-databricks)", at("type"), p.where(), p.envCalls("type"))
	case typ != "databricks":
		return fmt.Errorf("%s: %s has type %q: dbtdbx works only with type: databricks (dbt-databricks)", at("type"), p.where(), typ)
	}
	for _, fl := range profileFields {
		if err := read(fl.key, fl.secret); err != nil {
			return err
		}
	}
	if err := p.readScopes(out, r, at("oauth_scopes")); err != nil {
		return err
	}
	return p.validate(pf.path)
}

// readScopes reads oauth_scopes, which dbt-databricks takes as a list;
// a string of scopes is accepted too.
func (p *dbtTarget) readScopes(out *yamlMap, r *renderer, at string) error {
	n := deref(out.get("oauth_scopes"))
	if isNull(n) {
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var scopes, vars []string
	for _, it := range items {
		raw, ok, err := scalar(it)
		if err != nil {
			return fmt.Errorf("%s: %s: each scope in oauth_scopes %w", at, p.where(), err)
		}
		if !ok {
			continue
		}
		s, err := r.renderQuiet(raw, false)
		if err != nil {
			return fmt.Errorf("%s: %s: oauth_scopes: %w", at, p.where(), err)
		}
		scopes = append(scopes, s)
		vars = append(vars, r.shown...)
	}
	if s := strings.TrimSpace(strings.Join(scopes, " ")); s != "" {
		p.fields["oauth_scopes"] = profileValue{s, vars, out.line["oauth_scopes"]}
	}
	return nil
}

// validate mirrors DatabricksCredentials.validate_creds of dbt-databricks:
// what dbt would refuse, dbtdbx refuses too, before anyone logs in for it.
// A served token counts as a token: dbt sees the one dbtdbx hands out.
func (p *dbtTarget) validate(path string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", path, p.line, p.where(), fmt.Sprintf(format, args...))
	}
	hasToken := p.get("token") != "" || p.tokenServed
	switch {
	case p.get("host") == "":
		return fail("host is required (dbt-databricks refuses a target without one)")
	case !hasToken && p.get("auth_type") != "oauth":
		what := "it has no token"
		if p.get("client_id") != "" && p.get("client_secret") != "" {
			what = "it is a service principal (client_id and client_secret) without a token"
		}
		if at := p.get("auth_type"); at != "" {
			if p.fromEnv("auth_type") {
				return fail("auth_type (from %s) is not oauth, but %s, so dbt-databricks requires auth_type: oauth", p.envCalls("auth_type"), what)
			}
			return fail("auth_type is %q, but %s, so dbt-databricks requires auth_type: oauth", at, what)
		}
		return fail("%s, so dbt-databricks requires auth_type: oauth (or token: \"{{ env_var('%s') }}\" to use the token dbtdbx serves)", what, EnvToken)
	case p.get("client_secret") != "" && p.get("client_id") == "":
		return fail("client_secret is set without client_id: dbt-databricks requires client_id with it")
	case p.get("azure_client_id") != "" && p.get("azure_client_secret") == "":
		return fail("azure_client_id is set without azure_client_secret: dbt-databricks requires both or neither")
	case p.get("azure_client_secret") != "" && p.get("azure_client_id") == "":
		return fail("azure_client_secret is set without azure_client_id: dbt-databricks requires both or neither")
	}
	return nil
}

// profileNames lists the entries of profiles.yml that are profiles: not
// config:, and holding outputs: (keys that only hold anchors are not).
func profileNames(pf *yamlFile, top *yamlMap) []string {
	var names []string
	for _, k := range top.keys {
		if k == "config" {
			continue
		}
		if m, err := pf.mapping(top.value[k], ""); err == nil && m.get("outputs") != nil {
			names = append(names, k)
		}
	}
	return names
}

// has finishes a "not found" message with what does exist.
func has(what string, names []string) string {
	if len(names) == 0 {
		return "it has no " + what
	}
	return "it has: " + strings.Join(names, ", ")
}
