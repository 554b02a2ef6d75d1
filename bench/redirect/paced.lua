-- visitors.lua with a pause: each connection waits `args[2]` ms after an answer before its next
-- request, so the 64 connections offer a steady load below saturation. The latency wrk reports is
-- then the redirect's own time under that load, not the queue a saturated closed loop builds.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/visitors.lua")
local pause = 0
local visitorsInit = init

function init(args)
  visitorsInit(args)
  pause = tonumber(args[2] or "0")
end

function delay()
  return pause
end
