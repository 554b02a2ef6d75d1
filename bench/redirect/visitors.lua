-- Every request is a distinct visitor (its own X-Forwarded-For address) with a browser user agent,
-- so that each 302 from Tandem is a new click (repeat visits within the hour would reuse a click id).
-- The first script argument offsets the addresses so that rounds never repeat a visitor.
local counter = 0
local offset = 0
local ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
local head

function init(args)
  offset = tonumber(args[1] or "0")
  head = "GET " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port .. "\r\nUser-Agent: " .. ua .. "\r\nAccept: text/html\r\nX-Forwarded-For: "
end

function request()
  counter = counter + 1
  local n = offset + counter
  return head .. "10." .. (math.floor(n / 65536) % 256) .. "." .. (math.floor(n / 256) % 256) .. "." .. (n % 256) .. "\r\n\r\n"
end
