-- Like post.lua, but each connection waits $DELAY_MS before each request, so that
-- connections * 1000 / DELAY_MS approximates a constant request rate (Debian's wrk has no -R).
local file = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local pause = tonumber(os.getenv("DELAY_MS"))

function delay()
  return pause
end
