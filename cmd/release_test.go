package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaser is the part of .goreleaser.yaml that users depend on.
type goreleaser struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
	HomebrewCasks []struct {
		Name     string   `yaml:"name"`
		Binaries []string `yaml:"binaries"`
	} `yaml:"homebrew_casks"`
	Scoops []struct {
		Name string `yaml:"name"`
	} `yaml:"scoops"`
}

func readGoreleaser(t *testing.T) goreleaser {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaser
	if err := yaml.Unmarshal(b, &g); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return g
}

func TestGoreleaserShipsEveryPlatform(t *testing.T) {
	g := readGoreleaser(t)
	if g.Version != 2 || len(g.Builds) != 2 {
		t.Fatalf(".goreleaser.yaml: want version 2 with two builds (dbtdbx and dbtdbx-core), got version %d with %d builds", g.Version, len(g.Builds))
	}
	mains := map[string]string{}
	for _, b := range g.Builds {
		mains[b.Binary] = b.Main
		if !slices.Contains(b.Env, "CGO_ENABLED=0") {
			t.Errorf("build %s env %v: CGO must be disabled", b.ID, b.Env)
		}
		for _, goos := range []string{"linux", "darwin", "windows"} {
			if !slices.Contains(b.Goos, goos) {
				t.Errorf("build %s goos %v lacks %s", b.ID, b.Goos, goos)
			}
		}
		for _, arch := range []string{"amd64", "arm64"} {
			if !slices.Contains(b.Goarch, arch) {
				t.Errorf("build %s goarch %v lacks %s", b.ID, b.Goarch, arch)
			}
		}
		if ld := strings.Join(b.Ldflags, " "); !strings.Contains(ld, "-X github.com/dbtdbx/dbtdbx/internal/version.Version={{.Version}}") || !strings.Contains(ld, "-s -w") {
			t.Errorf("build %s ldflags %q: want -s -w and the version stamped into internal/version.Version", b.ID, ld)
		}
	}
	if mains["dbtdbx"] != "." || mains["dbtdbx-core"] != "./cmd/dbtdbx-core" {
		t.Errorf("builds %v: want dbtdbx from . and dbtdbx-core from ./cmd/dbtdbx-core", mains)
	}
	if len(g.Archives) != 1 || !slices.Equal(g.Archives[0].Formats, []string{"tar.gz"}) ||
		len(g.Archives[0].FormatOverrides) != 1 || g.Archives[0].FormatOverrides[0].Goos != "windows" ||
		!slices.Equal(g.Archives[0].FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives %+v: want tar.gz, and zip on windows", g.Archives)
	}
	if len(g.Archives) == 1 && !slices.Equal(g.Archives[0].IDs, []string{"dbtdbx", "dbtdbx-core"}) {
		t.Errorf("archive ids %v: want both binaries in the archive", g.Archives[0].IDs)
	}
	if g.Checksum.NameTemplate == "" {
		t.Error("no checksum file")
	}
	if len(g.HomebrewCasks) == 0 || len(g.Scoops) == 0 {
		t.Error("no Homebrew cask or Scoop manifest")
	}
	for _, c := range g.HomebrewCasks {
		if !slices.Equal(c.Binaries, []string{"dbtdbx", "dbtdbx-core"}) {
			t.Errorf("cask %s installs %v: want dbtdbx and dbtdbx-core", c.Name, c.Binaries)
		}
	}
}

// TestReleaseBuildStampsVersion builds dbtdbx and dbtdbx-core with the
// release's own flags and ldflags and checks that both ways of asking print the stamped version.
func TestReleaseBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	for _, b := range readGoreleaser(t).Builds {
		const stamped = "9.8.7-test"
		ldflags := strings.ReplaceAll(strings.Join(b.Ldflags, " "), "{{.Version}}", stamped)
		args := append([]string{"build"}, b.Flags...)
		build := exec.Command(gobin, append(args, "-ldflags", ldflags, "-o", filepath.Join(dir, b.Binary), filepath.Join("..", b.Main))...)
		build.Env = append(os.Environ(), b.Env...)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", build.Args, err, out)
		}
	}
	// dbtdbx hands both to dbtdbx-core, which it finds beside it.
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(filepath.Join(dir, "dbtdbx"), arg).Output()
		if err != nil || string(out) != "dbtdbx 9.8.7-test\n" {
			t.Errorf("dbtdbx %s: %q, %v; want dbtdbx 9.8.7-test", arg, out, err)
		}
	}
}
