"""Client for the LMS's LTI Advantage services (AGS grades, NRPS roster), shared by web and worker.

`client` handles tokens and HTTP, `ags`/`nrps` speak the two services, `gradebook` is the
product-level API (push a grade, push a submission status, make sure a line item exists).
"""
