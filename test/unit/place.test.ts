// Where a device is, as the console shows it and notifications will (shared/place.ts).
import { describe, expect, it } from 'vitest'
import { geoLink, placeText } from '../../shared/place.ts'

const full = { community: 'Gumei No. 3 Village', building: '3', unit: '2', floor: '12', device: 'Elevator 1' }

describe('placeText', () => {
  it('reads as a Chinese address in zh-CN', () => {
    expect(placeText('zh-CN', { ...full, community: '古美三村' })).toBe('古美三村 · 3号楼 2单元 12层 · Elevator 1')
    expect(placeText('zh-CN', { building: '3', floor: 'B1' })).toBe('3号楼 B1层')
  })

  it('reads as an English address in en', () => {
    expect(placeText('en', full)).toBe('Gumei No. 3 Village · Bldg 3, Unit 2, Floor 12 · Elevator 1')
    expect(placeText('en', { unit: '2', floor: 'B1' })).toBe('Unit 2, Floor B1')
  })

  it('skips missing and empty parts in both languages', () => {
    const sparse = { community: 'cm', building: ' ', unit: null, floor: '', location: undefined, device: 'mh-1' }
    expect(placeText('en', sparse)).toBe('cm · mh-1')
    expect(placeText('zh-CN', sparse)).toBe('cm · mh-1')
    expect(placeText('en', {})).toBe('')
    expect(placeText('zh-CN', { location: '3号楼东侧消防通道井盖' })).toBe('3号楼东侧消防通道井盖')
  })

  it('keeps a part already written in words as it is', () => {
    expect(placeText('zh-CN', { building: '3号楼', unit: '二单元', floor: '12' })).toBe('3号楼 二单元 12层')
    expect(placeText('en', { building: 'Tower A', floor: '3' })).toBe('Tower A, Floor 3')
    expect(placeText('en', { community: 'cm', building: '3', location: 'east fire lane', device: 'mh-1' })).toBe('cm · Bldg 3 · east fire lane · mh-1')
  })
})

describe('geoLink', () => {
  it('opens the map app at the point with a label', () => {
    expect(geoLink(31.152, 121.404, '3号楼 2单元')).toBe('geo:31.152,121.404?q=31.152,121.404(3%E5%8F%B7%E6%A5%BC%202%E5%8D%95%E5%85%83)')
    expect(geoLink(31.1, 121.4, 'Lift (east)')).toBe('geo:31.1,121.4?q=31.1,121.4(Lift%20%28east%29)')
  })
})
