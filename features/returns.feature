Feature: Returns go to stock
  In order to keep track of stock
  As a store owner
  I want to add items back to stock when they're returned

  Scenario: Refunded items should be returned to stock
    Given a customer previously bought a black sweater from me
    And I currently have three black sweaters left in stock
    When he returns the sweater for a refund
    Then I should have four black sweaters in stock

  @api
  Scenario: The customer gets back what he paid
    Given a customer previously bought a black sweater for £39.99
    When he returns the sweater for a refund
    Then he should be refunded £39.99

  @browser
  Scenario: A return recorded at the till shows the new stock level
    Given a customer previously bought a black sweater from me
    And I currently have three black sweaters left in stock
    When he returns the sweater for a refund
    Then the return should be confirmed with "refunded £40.00"
    And I should have four black sweaters in stock

  @api
  Scenario: Damaged items are refunded but not put back in stock
    Given a customer previously bought a black sweater from me
    And I currently have three black sweaters left in stock
    When he returns the sweater for a refund, saying it is damaged
    Then he should be refunded £40.00
    And I should have three black sweaters in stock

  @api
  Scenario: Nobody can return more than they bought
    Given a customer previously bought two black sweaters from me
    And I currently have five black sweaters left in stock
    When she returns three of the sweaters for a refund
    Then the store should refuse with "only 2 black sweater (M) from order"
    And I should have five black sweaters in stock

  @api
  Scenario Outline: Every resellable item that comes back goes back on the shelf
    Given a customer previously bought <bought> black sweaters from me
    And I currently have <before> black sweaters left in stock
    When she returns <returned> of the sweaters for a refund
    Then I should have <after> black sweaters in stock
    And she should be refunded £<refund>

    Examples:
      | bought | before | returned | after | refund |
      | 1      | 0      | 1        | 1     | 40.00  |
      | 3      | 3      | 2        | 5     | 80.00  |
      | 5      | 10     | 5        | 15    | 200.00 |
