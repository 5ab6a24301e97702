-- Fraud rules: application-level flags with reasons, from the A-card
-- features (table acard_features). One row per application and flag.
-- reads: (none)
-- uses: acard_features
SELECT application_id, 'invalid_id' AS flag,
       'ID number fails the GB 11643 check digit' AS reason
FROM acard_features WHERE id_checksum_ok = 0
UNION ALL
SELECT application_id, 'shared_device',
       'device used by ' || (device_shared_borrowers_30d + 1) || ' borrowers in the 30 days up to apply time'
FROM acard_features WHERE device_shared_borrowers_30d + 1 >= 3
UNION ALL
SELECT application_id, 'inquiry_burst',
       inq_7d_total || ' bureau inquiries in the 7 days before the apply date'
FROM acard_features WHERE inq_7d_total >= 5
UNION ALL
SELECT application_id, 'ring_member',
       'linked through shared devices/phones to a group of ' || link_group_size || ' borrowers'
FROM acard_features WHERE link_group_size >= 3
UNION ALL
SELECT application_id, 'identity_mismatch',
       concat_ws('; ',
           CASE WHEN gender_mismatch = 1 THEN 'declared gender differs from the ID' END,
           CASE WHEN age_out_of_range = 1 THEN 'ID age ' || age || ' outside 18-60' END)
FROM acard_features WHERE gender_mismatch = 1 OR age_out_of_range = 1
ORDER BY application_id, flag
