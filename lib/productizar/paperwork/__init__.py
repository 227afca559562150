"""The PRD paperwork: forms, e-mails, release and PR texts, rendered previews."""
