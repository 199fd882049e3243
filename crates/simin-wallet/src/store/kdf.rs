//! Passphrase-based key derivation (Argon2id) and its parameters.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::WalletError;

/// The length in bytes of the random Argon2 salt.
pub(crate) const SALT_LEN: usize = 16;

/// The length in bytes of the key-encryption key and of the passphrase check value.
pub(crate) const KEY_LEN: usize = 32;

/// Domain separation of the passphrase check value.
const CHECK_DOMAIN: &[u8] = b"simin-wallet/v1/kdf-check";

/// The cost parameters of Argon2id, recorded in `wallet.json` so that a wallet keeps
/// opening when the defaults change.
///
/// The parameters of a file being opened are adversarial input: they are checked
/// against [`KdfParams::M_COST_KIB_MAX`] and the other bounds before any memory is
/// allocated for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory cost in KiB (Argon2's `m`).
    pub m_cost_kib: u32,
    /// Number of passes (Argon2's `t`).
    pub t_cost: u32,
    /// Degree of parallelism (Argon2's `p`).
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self {
        m_cost_kib: 19_456,
        t_cost: 2,
        p_cost: 1,
    };

    /// The largest memory cost accepted (1 GiB), so a crafted file cannot make `open`
    /// allocate without bound.
    pub const M_COST_KIB_MAX: u32 = 1024 * 1024;
    /// The largest number of passes accepted.
    pub const T_COST_MAX: u32 = 32;
    /// The largest degree of parallelism accepted.
    pub const P_COST_MAX: u32 = 16;

    /// Parameters that make derivation nearly free (8 KiB, one pass).
    ///
    /// **Insecure**: for tests only, where they keep a create/open round trip in the
    /// microseconds. A wallet created with them can be brute-forced.
    pub fn insecure_for_tests() -> Self {
        Self {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Checks the parameters against Argon2's minimums and this crate's maximums.
    pub fn validate(&self) -> Result<(), WalletError> {
        let invalid = |reason: String| Err(WalletError::InvalidKdfParams { reason });
        if self.p_cost == 0 || self.p_cost > Self::P_COST_MAX {
            return invalid(format!(
                "p_cost {} is outside 1..={}",
                self.p_cost,
                Self::P_COST_MAX
            ));
        }
        if self.t_cost == 0 || self.t_cost > Self::T_COST_MAX {
            return invalid(format!(
                "t_cost {} is outside 1..={}",
                self.t_cost,
                Self::T_COST_MAX
            ));
        }
        // Argon2 needs at least 8 KiB per lane; p_cost <= 16 keeps the product small.
        let m_min = 8 * self.p_cost;
        if self.m_cost_kib < m_min || self.m_cost_kib > Self::M_COST_KIB_MAX {
            return invalid(format!(
                "m_cost_kib {} is outside {m_min}..={}",
                self.m_cost_kib,
                Self::M_COST_KIB_MAX
            ));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    /// [`KdfParams::OWASP`].
    fn default() -> Self {
        Self::OWASP
    }
}

/// What a passphrase derives: the key that wraps the wallet secrets and a check value.
pub(crate) struct DerivedKeys {
    /// The key-encryption key (first half of the Argon2 output).
    pub(crate) kek: Zeroizing<[u8; KEY_LEN]>,
    /// SHA-256 of the second half of the Argon2 output, stored in the file so that a
    /// wrong passphrase is told apart from a tampered ciphertext.
    pub(crate) check: [u8; KEY_LEN],
}

/// Derives the keys of `passphrase` under `salt` and `params` (which must be valid).
pub(crate) fn derive(
    passphrase: &str,
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<DerivedKeys, WalletError> {
    params.validate()?;
    let kdf_error = |err: argon2::Error| WalletError::Kdf {
        reason: err.to_string(),
    };
    let argon_params = argon2::Params::new(
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        Some(2 * KEY_LEN),
    )
    .map_err(kdf_error)?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut output = Zeroizing::new([0u8; 2 * KEY_LEN]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, output.as_mut_slice())
        .map_err(kdf_error)?;

    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    kek.copy_from_slice(&output[..KEY_LEN]);
    let check: [u8; KEY_LEN] = Sha256::new()
        .chain_update(CHECK_DOMAIN)
        .chain_update(&output[KEY_LEN..])
        .finalize()
        .into();
    Ok(DerivedKeys { kek, check })
}

/// Compares two check values without an early exit.
pub(crate) fn check_matches(a: &[u8; KEY_LEN], b: &[u8; KEY_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert!(KdfParams::OWASP.validate().is_ok());
        assert!(KdfParams::insecure_for_tests().validate().is_ok());
        for bad in [
            KdfParams {
                m_cost_kib: 7,
                ..KdfParams::insecure_for_tests()
            },
            KdfParams {
                m_cost_kib: KdfParams::M_COST_KIB_MAX + 1,
                ..KdfParams::OWASP
            },
            KdfParams {
                t_cost: 0,
                ..KdfParams::OWASP
            },
            KdfParams {
                t_cost: KdfParams::T_COST_MAX + 1,
                ..KdfParams::OWASP
            },
            KdfParams {
                p_cost: 0,
                ..KdfParams::OWASP
            },
            KdfParams {
                p_cost: 4,
                m_cost_kib: 31,
                t_cost: 1,
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(WalletError::InvalidKdfParams { .. })),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn derivation_depends_on_passphrase_and_salt() {
        let params = KdfParams::insecure_for_tests();
        let one = derive("one", &[1; SALT_LEN], &params).expect("derivation runs");
        let again = derive("one", &[1; SALT_LEN], &params).expect("derivation runs");
        let other_pass = derive("two", &[1; SALT_LEN], &params).expect("derivation runs");
        let other_salt = derive("one", &[2; SALT_LEN], &params).expect("derivation runs");
        assert_eq!(*one.kek, *again.kek);
        assert!(check_matches(&one.check, &again.check));
        assert_ne!(*one.kek, *other_pass.kek);
        assert!(!check_matches(&one.check, &other_pass.check));
        assert_ne!(*one.kek, *other_salt.kek);
        assert_ne!(one.check, *one.kek, "the check value is not the key");
    }
}
