# 25 million iterations: stopped by kvet's time limit.
package main

import rego.v1

deny contains "never" if {
	some i in numbers.range(1, 5000)
	some j in numbers.range(1, 5000)
	i * j == -1
}
