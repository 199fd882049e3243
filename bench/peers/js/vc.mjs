// Verifies the shared W3C credentials (eddsa-jcs-2022) with @digitalbazaar/vc and
// @digitalbazaar/eddsa-jcs-2022-cryptosuite; then signs the same credentials with
// eddsa-rdfc-2022 (the issue's reference figure) and verifies those. Offline: contexts
// come from the npm packages, did:key documents from the did:key driver.
//
//   node vc.mjs DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]
import { readFileSync } from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import * as jcs from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import { cryptosuite as rdfcCryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { driver as didKeyDriver } from '@digitalbazaar/did-method-key';
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import { rate, settings } from './timing.mjs';

const opts = settings(process.argv.slice(2));
const meta = JSON.parse(readFileSync(`${opts.dir}/meta.json`, 'utf8'));
const credentials = JSON.parse(readFileSync(`${opts.dir}/vcs.json`, 'utf8'));

const didKey = didKeyDriver();
didKey.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
const contexts = new Map([...credentialsContexts, ...dataIntegrityContext.contexts]);
const documentLoader = async (url) => {
  if (contexts.has(url)) {
    return { contextUrl: null, documentUrl: url, document: contexts.get(url) };
  }
  if (url.startsWith('did:key:')) {
    return { contextUrl: null, documentUrl: url, document: await didKey.get({ url }) };
  }
  throw new Error(`offline document loader: ${url} is not bundled`);
};

const version = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
const verifyAll = async (label, name, list, suite) => {
  const result = await rate({
    ...opts,
    count: list.length,
    op: async (i) => {
      const out = await vc.verifyCredential({ credential: list[i], suite, documentLoader });
      if (!out.verified) {
        console.error(JSON.stringify(out.error ?? out, null, 1).slice(0, 2000));
      }
      return out.verified;
    },
  });
  console.log(JSON.stringify({
    bench: 'di',
    name: label,
    impl: `@digitalbazaar/vc ${version('@digitalbazaar/vc')} + ${name} ${version(name)} `
      + `(Node ${process.version})`,
    alg: 'EdDSA',
    ...result,
  }));
};

await verifyAll(
  '@digitalbazaar/vc (eddsa-jcs-2022)',
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite',
  credentials,
  new DataIntegrityProof({ cryptosuite: jcs.createVerifyCryptosuite() }),
);

// The reference of the issue: the same credentials signed with eddsa-rdfc-2022.
const keyPair = await Ed25519Multikey.from({
  id: meta.vc_issuer.verification_method,
  controller: meta.vc_issuer.did,
  publicKeyMultibase: meta.vc_issuer.public_key_multibase,
  secretKeyMultibase: meta.vc_issuer.secret_key_multibase,
});
const rdfcSigned = [];
for (const credential of credentials) {
  const { proof, ...unsigned } = credential;
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(),
    cryptosuite: rdfcCryptosuite,
    date: proof.created,
  });
  rdfcSigned.push(await vc.issue({ credential: unsigned, suite, documentLoader }));
}
await verifyAll(
  '@digitalbazaar/vc (eddsa-rdfc-2022, the reference of issue 4)',
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite',
  rdfcSigned,
  new DataIntegrityProof({ cryptosuite: rdfcCryptosuite }),
);
