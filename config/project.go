package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files dbt reads, by the only names it reads them by.
const (
	projectFileName  = "dbt_project.yml"
	profilesFileName = "profiles.yml"
)

// dbt's environment variables that Resolve reads, as dbt Core 1.11 does.
const (
	EnvProjectDir        = "DBT_PROJECT_DIR"
	EnvEngineProfilesDir = "DBT_ENGINE_PROFILES_DIR"
	EnvProfilesDir       = "DBT_PROFILES_DIR"
	EnvProfile           = "DBT_PROFILE"
	EnvTarget            = "DBT_TARGET"
)

// findProject returns the dbt project directory: --project-dir, then
// DBT_PROJECT_DIR, then the nearest directory from env.Dir upward holding
// dbt_project.yml. It returns "" and no error when there is no project and
// none was named; a named directory without dbt_project.yml is an error.
// It only stats files.
func findProject(f Flags, env Env) (dir string, origin Origin, err error) {
	named, origin := f.ProjectDir, Origin("flag --project-dir")
	if named == "" {
		named, origin = env.Get(EnvProjectDir), Origin("env "+EnvProjectDir)
	}
	if named != "" {
		dir = env.abs(named)
		if !isFile(filepath.Join(dir, projectFileName)) {
			return "", "", fmt.Errorf("no %s in %s (the project directory from %s)", projectFileName, dir, origin)
		}
		return dir, origin, nil
	}
	if env.Dir == "" {
		return "", "", nil
	}
	for dir := filepath.Clean(env.Dir); ; {
		if isFile(filepath.Join(dir, projectFileName)) {
			return dir, "nearest " + projectFileName + " from the current directory", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", nil
		}
		dir = parent
	}
}

// findProfiles returns the profiles.yml dbt reads: in --profiles-dir, then
// DBT_ENGINE_PROFILES_DIR, then DBT_PROFILES_DIR, then the current directory
// when it holds one, then ~/.dbt/.
func findProfiles(f Flags, env Env, projectDir string) (path string, origin Origin, err error) {
	for _, c := range []struct {
		dir    string
		origin Origin
	}{
		{f.ProfilesDir, "flag --profiles-dir"},
		{env.Get(EnvEngineProfilesDir), "env " + EnvEngineProfilesDir},
		{env.Get(EnvProfilesDir), "env " + EnvProfilesDir},
	} {
		if c.dir == "" {
			continue
		}
		dir := env.abs(c.dir)
		if !isDir(dir) {
			return "", "", fmt.Errorf("the profiles directory %s (from %s) does not exist", dir, c.origin)
		}
		path := filepath.Join(dir, profilesFileName)
		if !isFile(path) {
			return "", "", fmt.Errorf("no %s in %s (the profiles directory from %s)%s", profilesFileName, dir, c.origin, yamlSpellingHint(dir))
		}
		return path, c.origin, nil
	}
	var looked []string
	if env.Dir != "" {
		path := filepath.Join(env.Dir, profilesFileName)
		if isFile(path) {
			return path, "current directory", nil
		}
		looked = append(looked, env.Dir)
	}
	if env.Home != "" {
		dir := filepath.Join(env.Home, ".dbt")
		path := filepath.Join(dir, profilesFileName)
		if isFile(path) {
			return path, OriginDefault, nil
		}
		looked = append(looked, dir)
	}
	hint := ""
	for _, dir := range looked {
		if hint = yamlSpellingHint(dir); hint != "" {
			break
		}
	}
	// dbt reads profiles.yml from the current directory, not the project's:
	// run from a subdirectory or with --project-dir, the project's own is
	// not found, which puzzles people who see it there.
	if projectDir != "" && projectDir != env.Dir && isFile(filepath.Join(projectDir, profilesFileName)) {
		hint += fmt.Sprintf("; the dbt project %s holds one, which dbt reads only from that directory or with --profiles-dir %s", projectDir, projectDir)
	}
	return "", "", fmt.Errorf("no %s found (looked in %s): pass --profiles-dir or set %s%s",
		profilesFileName, strings.Join(looked, " and "), EnvProfilesDir, hint)
}

// yamlSpellingHint explains a profiles.yaml that dbt would not read.
func yamlSpellingHint(dir string) string {
	if isFile(filepath.Join(dir, "profiles.yaml")) {
		return fmt.Sprintf("; %s holds profiles.yaml, but dbt reads only the name %s", dir, profilesFileName)
	}
	return ""
}

// abs resolves p against the current directory; a leading ~/ means the
// home directory.
func (e Env) abs(p string) string {
	if e.Home != "" && (p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(filepath.Separator))) {
		p = filepath.Join(e.Home, p[1:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(e.Dir, p)
	}
	return filepath.Clean(p)
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
