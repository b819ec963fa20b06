package wso2

import (
	"github.com/rampart-sec/rampart/internal/collect/wso2/tomlcfg"
	"github.com/rampart-sec/rampart/internal/wso2kb"
)

// Effective is a product home's resolved configuration, unredacted, for
// tools that need the values themselves (`rampart fix` encrypts the plain
// secrets it moves into Secure Vault and writes keys by the names the
// product reads them under).
type Effective struct {
	Profile string
	// ConfigFile is deployment.toml relative to the home.
	ConfigFile string
	// Config is deployment.toml over the shipped defaults, inferences and
	// key renames, as the collector resolves it.
	Config *tomlcfg.Config
	// Mappings are the product's key renames (key-mappings.json): a key
	// as written in deployment.toml to the keys the product reads.
	Mappings tomlcfg.KeyMappings
}

// EffectiveConfig reads the configuration of the product home dir the way
// the collector does. profile forces a profile ("" detects it).
func EffectiveConfig(dir, profile string) (*Effective, error) {
	h, err := openHome(dir, nil)
	if err != nil {
		return nil, err
	}
	defer h.close()
	det, err := detect(h, profile, wso2kb.Default())
	if err != nil {
		return nil, err
	}
	p, err := loadConfig(h, det)
	if err != nil {
		return nil, err
	}
	e := &Effective{Profile: det.profile, ConfigFile: p.toml, Config: p.cfg, Mappings: tomlcfg.KeyMappings{}}
	if f := p.resource(p.kb.Mapper.KeyMappings); f != "" {
		if b, err := h.read(f); err == nil {
			if m, err := tomlcfg.ParseKeyMappings(b, f); err == nil {
				e.Mappings = m
			}
		}
	}
	return e, nil
}
