-- Caps become part of the rubric: each version keeps the caps it was saved with, one per line
-- ("backup_unverified = C+", "finding public_port = B", "Security < 50 = C"). NULL, in versions
-- saved before caps were editable, means the default caps.
ALTER TABLE rubric_versions ADD COLUMN caps text;
