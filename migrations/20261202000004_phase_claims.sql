-- The grade a plan claims at its start ("**Current Grade**: 91/100"), kept beside its target so
-- that the phase page, its sign-off record and the dashboard can set both against the measured
-- grade. Hundredths of a point, like target_grade.
ALTER TABLE phases
    ADD COLUMN claimed_grade integer CHECK (claimed_grade BETWEEN 0 AND 10000);
