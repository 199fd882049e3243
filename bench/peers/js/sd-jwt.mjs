// Verifies the shared SD-JWT VC presentations with @sd-jwt/sd-jwt-vc (on @sd-jwt/core):
// issuer signature, disclosures, Key Binding JWT with nonce and sd_hash; the audience,
// which @sd-jwt/core does not check, is checked here. EdDSA through node:crypto, the
// hasher from @sd-jwt/crypto-nodejs.
//
//   node sd-jwt.mjs DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]
import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest } from '@sd-jwt/crypto-nodejs';
import { rate, settings } from './timing.mjs';

const opts = settings(process.argv.slice(2));
const meta = JSON.parse(readFileSync(`${opts.dir}/meta.json`, 'utf8'));
const presentations = readFileSync(`${opts.dir}/presentations.txt`, 'utf8')
  .split('\n')
  .filter(Boolean);
const issuerKey = createPublicKey({ key: meta.issuer.jwk, format: 'jwk' });

const ed25519 = (key, data, sig) =>
  verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  verifier: (data, sig) => ed25519(issuerKey, data, sig),
  kbVerifier: (data, sig, payload) =>
    ed25519(createPublicKey({ key: payload.cnf.jwk, format: 'jwk' }), data, sig),
});

const result = await rate({
  ...opts,
  count: presentations.length,
  op: async (i) => {
    const out = await sdjwt.verify(presentations[i], {
      keyBindingNonce: meta.nonce,
      currentDate: meta.now,
    });
    return out.kb?.payload.aud === meta.audience && out.payload.iss === meta.issuer.iss;
  },
});
const pkgUrl = new URL('./node_modules/@sd-jwt/sd-jwt-vc/package.json', import.meta.url);
const pkg = JSON.parse(readFileSync(pkgUrl, 'utf8'));
console.log(JSON.stringify({
  bench: 'sd_jwt',
  name: `@sd-jwt/sd-jwt-vc ${pkg.version}`,
  impl: `@sd-jwt/sd-jwt-vc ${pkg.version} + @sd-jwt/core (Node ${process.version}, `
    + 'node:crypto Ed25519)',
  alg: 'EdDSA',
  ...result,
}));
