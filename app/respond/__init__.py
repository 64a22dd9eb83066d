"""The respondent side: item types, page plans and the forms built from a questionnaire."""
