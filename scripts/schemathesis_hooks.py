"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Fuzzing can put a `#` in a path parameter (a list rendered as text, say) and send it
unencoded: the URL's fragment then starts inside the path, hyper drops it, and the
server answers for another path than the one meant (a 405 for the shorter path,
schemathesis's own "undocumented status"). Percent-encoding it sends the value that
was generated, so every operation runs with every check.
"""

import schemathesis


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return path_parameters
    return {
        name: value.replace("#", "%23") if isinstance(value, str) else value
        for name, value in path_parameters.items()
    }
