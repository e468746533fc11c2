package labels

import rego.v1

deny contains "an owner label is required" if not input.metadata.labels.owner
