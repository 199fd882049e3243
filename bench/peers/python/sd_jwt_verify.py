"""Verifies the shared SD-JWT VC presentations with sd-jwt (the IETF reference
implementation, on jwcrypto): issuer signature, disclosures, Key Binding JWT with
audience, nonce and sd_hash. Prints the rate as one line of JSON, timed as
`simin-bench measure` does: a warm-up, then rounds over the presentations in turn, the
median round reported.

    python sd_jwt_verify.py DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]

sd-jwt 0.10.4's SDJWTVerifier runs the Key Binding JWT check with its default
algorithm, ES256, and offers no parameter to change it, though the method it calls
takes one. The verifier below runs the same steps as SDJWTVerifier.__init__, in the
same order, passing EdDSA there: the library's own code, the same presentations.
"""

import json
import sys
import time
from importlib.metadata import version

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier


class EdDsaKeyBindingVerifier(SDJWTVerifier):
    def __init__(self, presentation, cb_get_issuer_key, expected_aud, expected_nonce):
        # SDJWTCommon.__init__, then SDJWTVerifier.__init__'s steps.
        super(SDJWTVerifier, self).__init__(serialization_format="compact")
        self._parse_sd_jwt(presentation)
        self._create_hash_mappings(self._input_disclosures)
        self._verify_sd_jwt(cb_get_issuer_key)
        self._verify_key_binding_jwt(expected_aud, expected_nonce, sign_alg="EdDSA")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    fixtures = args[0]
    warmup_s = int(args[1] if len(args) > 1 else 1000) / 1000
    round_s = int(args[2] if len(args) > 2 else 2000) / 1000
    rounds = max(1, int(args[3] if len(args) > 3 else 3))
    with open(f"{fixtures}/meta.json") as f:
        meta = json.load(f)
    with open(f"{fixtures}/presentations.txt") as f:
        presentations = [line for line in f.read().split("\n") if line]
    issuer_key = JWK.from_json(json.dumps(meta["issuer"]["jwk"]))
    expected_iss = meta["issuer"]["iss"]

    def issuer_key_for(iss, _header):
        if iss != expected_iss:
            raise ValueError(f"unexpected issuer {iss}")
        return issuer_key

    def verify(i):
        verifier = EdDsaKeyBindingVerifier(
            presentations[i], issuer_key_for, meta["audience"], meta["nonce"]
        )
        return isinstance(verifier.get_verified_payload(), dict)

    state = {"next": 0}

    def step():
        item = state["next"] % len(presentations)
        if not verify(item):
            raise SystemExit(f"presentation {item} did not verify")
        state["next"] += 1

    start = time.perf_counter()
    while time.perf_counter() - start < warmup_s:
        step()
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        ops = 0
        while True:
            step()
            ops += 1
            if ops % 8 == 0 and time.perf_counter() - start >= round_s:
                break
        rates.append(ops / (time.perf_counter() - start))
    name = f"sd-jwt {version('sd-jwt')} (Python)"
    print(json.dumps({
        "bench": "sd_jwt",
        "name": name,
        "impl": f"{name} {sys.version.split()[0]}, jwcrypto {version('jwcrypto')}",
        "alg": "EdDSA",
        "ops_per_sec": round(sorted(rates)[len(rates) // 2]),
        "rounds": [round(r) for r in rates],
    }))


if __name__ == "__main__":
    main()
